"""Amazon Ion text, the row format Kestra's tasks hand each other through internal storage.

A Kestra row file holds one Ion value per line: a struct per row (``{a:"1",b:null}``),
or a list when a CSV had no header. This package reads and writes such files
as a stream, one line at a time, so memory stays bounded whatever the size of the
file.

Speed is why it exists beside `amazon-ion`, the reference library: Ion text of flat
rows (scalars in a struct) is, written the right way, JSON as well, and Python's
JSON codecs in C (orjson, then the standard library's `json`) handle it several
times faster than amazon-ion (docs/tasks-serdes.md gives the numbers). So:

* the writer (:mod:`lanner.ion.writer`) writes a row of strings, integers,
  booleans and nulls with orjson (field names as quoted Ion strings, which every
  Ion reader takes as the same field names); other values (floats, decimals,
  timestamps, blobs, nested values) get Ion's own notation;
* the reader (:mod:`lanner.ion.reader`) reads a line with orjson when it is JSON
  holding no number with a fraction (Lanner's rows of strings), with `json` when it
  is other JSON (whose 1.5 is read as Ion's decimal), then with `json` after quoting
  bare field names (the shape
  Kestra writes, ``{a:"1"}``), and hands anything else (timestamps, symbols,
  annotations, comments, values spread over lines) to amazon-ion.

Values in Python: None, bool, int, float, Decimal (Ion decimal), str (strings and
symbols), bytes (blob, clob), datetime (timestamp with a time), date (timestamp of
day, month or year precision), list (list, sexp), dict (struct; a repeated field
keeps its last value). Annotations are dropped when reading.
"""

from __future__ import annotations

from lanner.ion.reader import IonFormatError, read_batches, read_values
from lanner.ion.writer import (
    IonText,
    dumps_line,
    encode_line,
    encode_text_row,
    flat_struct_encoder,
    ion_scalar_text,
    write_values,
)

__all__ = [
    "IonFormatError",
    "IonText",
    "dumps_line",
    "encode_line",
    "encode_text_row",
    "flat_struct_encoder",
    "ion_scalar_text",
    "read_batches",
    "read_values",
    "write_values",
]
