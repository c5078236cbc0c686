"""The serdes tasks through the real `lanner run`: a CSV converted to Ion, JSON, Ion
again and CSV, each file in the run's internal storage (LANNER_HOME/storage).

The CSV is a namespace file put in the storage folder by hand: FILE inputs and
`lanner namespaces files upload` come with another part of issue 9.
"""

from __future__ import annotations

import json
from pathlib import Path

from amazon.ion import simpleion

from lanner.ion.reference import plain
from lanner.storage.uris import namespace_file_uri, storage_path
from tests.support.cli import lanner, run_json

CSV = 'id,name,price\n1,"Widget, large",9.99\n2,Gadget,\\N\n3,"Say ""hi""",0\n'

FLOW = """
id: serdes_pipeline
namespace: company.team
tasks:
  - id: to_ion
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ inputs.csv }}"
  - id: to_json
    type: io.kestra.plugin.serdes.json.IonToJson
    from: "{{ outputs.to_ion.uri }}"
  - id: back_to_ion
    type: io.kestra.plugin.serdes.json.JsonToIon
    from: "{{ outputs.to_json.uri }}"
  - id: to_csv
    type: io.kestra.plugin.serdes.csv.IonToCsv
    from: "{{ outputs.back_to_ion.uri }}"
    fieldSeparator: ";"
    alwaysDelimitText: true
inputs:
  - id: csv
    type: STRING
"""


def _file(home: Path, uri: str) -> bytes:
    return (home / "storage" / storage_path(uri)).read_bytes()


def test_a_csv_goes_through_ion_and_json_and_back(tmp_path: Path, env: dict[str, str]) -> None:
    home = Path(env["LANNER_HOME"])
    uri = namespace_file_uri("company.team", "products.csv")
    source = home / "storage" / storage_path(uri)
    source.parent.mkdir(parents=True)
    source.write_text(CSV, encoding="utf-8")
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)

    execution = run_json(flow, env, "--input", f"csv={uri}")

    assert execution["state"]["current"] == "SUCCESS", execution
    outputs = {t["taskId"]: t["outputs"] for t in execution["taskRunList"]}
    ion = _file(home, outputs["to_ion"]["uri"]).decode()
    # Kestra's shape, read by amazon-ion: a struct of strings per row, keyed by the header.
    assert [plain(v) for v in simpleion.loads(ion, single_value=False)] == [
        {"id": "1", "name": "Widget, large", "price": "9.99"},
        {"id": "2", "name": "Gadget", "price": None},
        {"id": "3", "name": 'Say "hi"', "price": "0"},
    ]
    lines = _file(home, outputs["to_json"]["uri"]).decode().splitlines()
    assert json.loads(lines[1]) == {"id": "2", "name": "Gadget", "price": None}
    assert _file(home, outputs["to_csv"]["uri"]).decode() == (
        '"id";"name";"price"\n"1";"Widget, large";"9.99"\n"2";"Gadget";""\n"3";"Say ""hi""";"0"\n'
    )
    for task in ("to_ion", "to_json", "back_to_ion", "to_csv"):
        assert outputs[task]["uri"].startswith(
            f"kestra:///company/team/serdes_pipeline/executions/{execution['id']}/tasks/{task}/"
        )


def test_a_bad_property_is_refused_at_load_with_its_place(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW.replace('fieldSeparator: ";"', 'fieldSeparator: ";;"'))
    proc = lanner("validate", str(flow), env=env)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "fieldSeparator" in out and "single character" in out, out
    assert "to_csv" in out or "tasks[3]" in out, out


def test_a_file_of_another_flow_cannot_be_read(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    other = "kestra:///other/ns/some_flow/executions/x/tasks/t/r/data.csv"
    execution = run_json(flow, env, "--input", f"csv={other}")
    assert execution["state"]["current"] == "FAILED"
    failed = next(t for t in execution["taskRunList"] if t["taskId"] == "to_ion")
    assert failed["state"]["current"] == "FAILED"
