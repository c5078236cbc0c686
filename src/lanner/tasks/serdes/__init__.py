"""Kestra's serialisation tasks (`io.kestra.plugin.serdes.*`): files converted to and
from Ion, the row format tasks hand each other through internal storage.

Registered through their own `lanner.tasks` entry point (``serdes``). The Ion
codec itself is :mod:`lanner.ion`; docs/tasks-serdes.md describes each task.
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    """CsvToIon, IonToCsv, JsonToIon, IonToJson (and their old names), ExcelToIon and
    IonToExcel (openpyxl), IonToAvro and AvroToIon (fastavro), IonToParquet and
    ParquetToIon (pyarrow); the libraries are imported when a task runs."""
    from lanner.tasks.serdes import avro, csv_ion, excel, json_ion, parquet

    return [
        *csv_ion.TASK_TYPES,
        *json_ion.TASK_TYPES,
        *excel.TASK_TYPES,
        *avro.TASK_TYPES,
        *parquet.TASK_TYPES,
    ]
