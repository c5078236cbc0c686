"""Flow inputs (SPEC §1.3, §1.4 rule 5): declarations, flow rules and execution values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lanner.errors import InputValueError
from lanner.model.inputs import (
    Input,
    InputModel,
    check_inputs,
    nest_inputs,
    parse_inputs,
    secret_input_ids,
)

ADAPTER: TypeAdapter[list[Any]] = TypeAdapter(list[Input])


def declare(*inputs: dict[str, Any]) -> list[InputModel]:
    return ADAPTER.validate_python(list(inputs))


def one(decl: dict[str, Any], value: Any, *, from_strings: bool = True) -> Any:
    return parse_inputs(declare(decl), {decl["id"]: value}, from_strings=from_strings)[decl["id"]]


def errors_of(*inputs: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as exc:
        declare(*inputs)
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


# --- declarations --------------------------------------------------------------------------

# The flow of Kestra's "Inputs" documentation page, FILE aside (its default needs a file store).
KESTRA_DOC_INPUTS: list[dict[str, Any]] = [
    {"id": "string", "type": "STRING", "defaults": "Hello World!", "displayName": "A string input"},
    {"id": "optional", "type": "STRING", "required": False},
    {"id": "int", "type": "INT", "defaults": 100},
    {"id": "list_of_int", "type": "ARRAY", "itemType": "INT", "defaults": [1, 2, 3]},
    {"id": "bool", "type": "BOOL", "defaults": True},
    {"id": "float", "type": "FLOAT", "defaults": 100.12},
    {"id": "dropdown", "type": "SELECT", "defaults": "VALUE_1", "values": ["VALUE_1", "VALUE_2"]},
    {
        "id": "dropdown_multi",
        "type": "MULTISELECT",
        "values": ["VALUE_1", "VALUE_2"],
        "required": True,
    },
    {"id": "instant", "type": "DATETIME", "defaults": "2013-08-09T14:19:00Z"},
    {"id": "date", "type": "DATE", "defaults": "2013-10-25"},
    {"id": "time", "type": "TIME", "defaults": "14:19:00"},
    {"id": "duration", "type": "DURATION", "defaults": "PT5M6S"},
    {"id": "json", "type": "JSON", "defaults": '[{"name": "kestra", "rating": "best in class"}]'},
    {"id": "uri", "type": "URI", "defaults": "https://huggingface.co/datasets/kestra/orders.csv"},
    {"id": "secret", "type": "SECRET", "required": False},
    {"id": "yaml", "type": "YAML", "defaults": [{"user": "john", "email": "john@example.com"}]},
    {"id": "nested.string", "type": "STRING", "defaults": "Hello World!"},
    {"id": "age", "type": "INT", "prefill": 42, "required": False, "min": 18, "max": 64},
    {
        "id": "user",
        "type": "STRING",
        "prefill": "student",
        "required": False,
        "validator": r"^student(\d+)?$",
    },
    {
        "id": "window",
        "type": "DATE",
        "defaults": "2024-04-12",
        "after": "2024-04-10",
        "before": "2024-04-15",
    },
    {"id": "mail", "type": "EMAIL", "required": False},
    {"id": "old_bool", "type": "BOOLEAN", "required": False},
    {"id": "old_enum", "type": "ENUM", "values": ["A", "B"], "required": False},
    {"id": "upload", "type": "FILE", "required": False, "allowedFileExtensions": [".md", ".txt"]},
    {"id": "env", "type": "FORM", "inputs": [{"id": "region", "type": "STRING", "defaults": "eu"}]},
]


def test_kestra_documentation_example_validates_and_parses() -> None:
    declared = declare(*KESTRA_DOC_INPUTS)
    assert check_inputs(declared) == []
    values = parse_inputs(declared, {"dropdown_multi": '["VALUE_2"]'})
    assert values == {
        "string": "Hello World!",
        "int": 100,
        "list_of_int": [1, 2, 3],
        "bool": True,
        "float": 100.12,
        "dropdown": "VALUE_1",
        "dropdown_multi": ["VALUE_2"],
        "instant": "2013-08-09T14:19:00Z",
        "date": "2013-10-25",
        "time": "14:19:00",
        "duration": "PT5M6S",
        "json": [{"name": "kestra", "rating": "best in class"}],
        "uri": "https://huggingface.co/datasets/kestra/orders.csv",
        "yaml": [{"user": "john", "email": "john@example.com"}],
        "nested.string": "Hello World!",
        "window": "2024-04-12",
        "env.region": "eu",
    }


@pytest.mark.parametrize(
    ("decl", "message"),
    [
        ({"id": "a", "type": "string"}, "unknown input type 'string'; did you mean 'STRING'?"),
        ({"id": "a", "type": "INTEGER"}, "valid types: ARRAY, BOOL, BOOLEAN, DATE"),
        ({"id": "a"}, "missing required property 'type'"),
        ({"id": "-a", "type": "STRING"}, "is not a valid input id"),
        ({"id": "a", "type": "STRING", "validator": "(unclosed"}, "invalid regular expression"),
        ({"id": "a", "type": "ARRAY"}, "Field required"),
        ({"id": "a", "type": "ARRAY", "itemType": "ARRAY"}, "itemType cannot be ARRAY"),
        ({"id": "a", "type": "SELECT"}, "needs `values` or `expression`"),
        (
            {"id": "a", "type": "MULTISELECT", "values": ["x"], "options": ["x"]},
            "both `values` and `options`",
        ),
        ({"id": "a", "type": "DATETIME", "after": "yesterday"}, "expected an ISO-8601 date-time"),
        ({"id": "a", "type": "DURATION", "min": "5 minutes"}, "ISO-8601 duration"),
        (
            {
                "id": "f",
                "type": "FORM",
                "inputs": [{"id": "g", "type": "FORM", "inputs": [{"id": "x", "type": "INT"}]}],
            },
            "cannot contain another FORM",
        ),
    ],
)
def test_invalid_declaration_is_rejected(decl: dict[str, Any], message: str) -> None:
    assert any(message in msg for _, msg in errors_of(decl)), errors_of(decl)


@pytest.mark.parametrize(
    ("decl", "prop"),
    [
        ({"id": "a", "type": "STRING", "min": 1}, "min"),
        ({"id": "a", "type": "INT", "validator": "x"}, "validator"),
        ({"id": "a", "type": "BOOL", "values": ["x"]}, "values"),
    ],
)
def test_unknown_property_is_rejected_with_its_location(decl: dict[str, Any], prop: str) -> None:
    locs = [loc for loc, _ in errors_of(decl)]
    assert any(loc[0] == 0 and loc[-1] == prop for loc in locs), locs


def test_old_name_property_still_declares_the_id() -> None:
    assert declare({"name": "x", "type": "STRING"})[0].id == "x"


def test_dynamic_default_is_kept_as_written() -> None:
    assert (
        declare({"id": "d", "type": "DATE", "defaults": "{{ now() }}"})[0].defaults == "{{ now() }}"
    )


# --- flow-level rules (SPEC §1.4 rule 5) ---------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ([{"id": "a", "type": "STRING"}, {"id": "b", "type": "STRING"}], []),
        (
            [{"id": "a", "type": "STRING"}, {"id": "a", "type": "INT"}],
            [((1, "id"), "Duplicate input id 'a'")],
        ),
        (
            [
                {"id": "f", "type": "FORM", "inputs": [{"id": "x", "type": "INT"}]},
                {"id": "f.x", "type": "INT"},
            ],
            [((1, "id"), "Duplicate input id 'f.x'")],
        ),
        (
            [{"id": "a", "type": "STRING"}, {"id": "a.b", "type": "STRING"}],
            [((1, "id"), "input 'a.b' conflicts with input 'a'")],
        ),
        (
            [
                {"id": "a", "type": "STRING", "dependsOn": {"inputs": ["b"]}},
                {"id": "b", "type": "STRING"},
            ],
            [],
        ),
        (
            [
                {"id": "a", "type": "STRING", "dependsOn": {"inputs": ["bb"]}},
                {"id": "b", "type": "STRING"},
            ],
            [((0, "dependsOn", "inputs", 0), "dependsOn: unknown input 'bb'; did you mean 'b'?")],
        ),
        (
            [
                {"id": "a", "type": "STRING", "dependsOn": {"inputs": ["b"]}},
                {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a"]}},
            ],
            [((0, "dependsOn"), "dependsOn cycle: a -> b -> a")],
        ),
        (
            [
                {
                    "id": "a",
                    "type": "STRING",
                    "dependsOn": {"inputs": ["a"], "condition": "{{ true }}"},
                }
            ],
            [((0, "dependsOn"), "dependsOn cycle: a -> a")],
        ),
        (
            [
                {"id": "env", "type": "FORM", "inputs": [{"id": "dc", "type": "STRING"}]},
                {"id": "rack", "type": "STRING", "dependsOn": {"inputs": ["env.dc"]}},
            ],
            [],
        ),
    ],
)
def test_check_inputs(inputs: list[dict[str, Any]], expected: list[tuple[Any, str]]) -> None:
    assert check_inputs(declare(*inputs)) == expected


@pytest.mark.parametrize(
    ("decl", "expected"),
    [
        ({"id": "a", "type": "INT", "defaults": 3, "min": 1, "max": 5}, []),
        (
            {"id": "a", "type": "INT", "defaults": "x"},
            [((0, "defaults"), "invalid defaults: expected an integer, got 'x'")],
        ),
        (
            {"id": "a", "type": "INT", "defaults": 9, "max": 5},
            [((0, "defaults"), "invalid defaults: 9 is above the maximum 5")],
        ),
        (
            {"id": "a", "type": "INT", "prefill": "x", "required": False},
            [((0, "prefill"), "invalid prefill: expected an integer, got 'x'")],
        ),
        (
            {"id": "a", "type": "INT", "min": 5, "max": 1},
            [((0, "max"), "the lower bound 5 is above the upper bound 1")],
        ),
        (
            {"id": "a", "type": "DATE", "after": "2024-04-15", "before": "2024-04-10"},
            [((0, "before"), "the lower bound '2024-04-15' is above the upper bound '2024-04-10'")],
        ),
        (
            {"id": "a", "type": "INT", "defaults": 1, "prefill": 2},
            [((0, "prefill"), "give `defaults` or `prefill`, not both")],
        ),
        (
            {"id": "a", "type": "SELECT", "values": ["x"], "defaults": "y"},
            [((0, "defaults"), "invalid defaults: 'y' is not one of 'x'")],
        ),
        ({"id": "a", "type": "DATE", "defaults": "{{ now() }}"}, []),
        ({"id": "a", "type": "FILE", "defaults": "nsfile:///hello.txt"}, []),
        (
            {"id": "a", "type": "FILE", "defaults": "/etc/passwd"},
            [((0, "defaults"), "a FILE default is a kestra:/// or nsfile:/// URI")],
        ),
        (
            {
                "id": "f",
                "type": "FORM",
                "defaults": {"x": 1},
                "inputs": [{"id": "x", "type": "INT"}],
            },
            [((0, "defaults"), "a FORM has no value: set it on the inputs inside it")],
        ),
        (
            {"id": "f", "type": "FORM", "inputs": [{"id": "x", "type": "INT", "defaults": "no"}]},
            [((0, "inputs", 0, "defaults"), "invalid defaults: expected an integer, got 'no'")],
        ),
    ],
)
def test_check_inputs_parses_defaults_and_bounds(decl: dict[str, Any], expected: list[Any]) -> None:
    assert check_inputs(declare(decl)) == expected


def test_secret_input_ids_include_form_children() -> None:
    declared = declare(
        {"id": "token", "type": "SECRET"},
        {"id": "creds", "type": "FORM", "inputs": [{"id": "key", "type": "SECRET"}]},
        {"id": "name", "type": "STRING"},
    )
    assert secret_input_ids(declared) == {"token", "creds.key"}


# --- values, type by type -----------------------------------------------------------------

# (declaration, value as text, stored value)
FROM_TEXT_OK: list[tuple[dict[str, Any], str, Any]] = [
    ({"type": "STRING"}, "hello", "hello"),
    ({"type": "STRING"}, "", ""),
    ({"type": "STRING", "validator": r"^student(\d+)?$"}, "student123", "student123"),
    ({"type": "SECRET"}, "s3cr3t", "s3cr3t"),
    ({"type": "INT"}, "42", 42),
    ({"type": "INT"}, "-7", -7),
    ({"type": "INT", "min": 18, "max": 64}, "18", 18),
    ({"type": "FLOAT"}, "3.5", 3.5),
    ({"type": "FLOAT"}, "2", 2.0),
    ({"type": "FLOAT", "min": 0.2, "max": 5.3}, "5.3", 5.3),
    ({"type": "BOOL"}, "TRUE", True),
    ({"type": "BOOL"}, "false", False),
    ({"type": "BOOLEAN"}, "True", True),
    ({"type": "SELECT", "values": ["a", "b"]}, "b", "b"),
    ({"type": "SELECT", "values": ["a"], "allowCustomValue": True}, "zzz", "zzz"),
    ({"type": "SELECT", "values": [{"label": "Alpha", "value": "a"}]}, "a", "a"),
    ({"type": "SELECT", "expression": "{{ kv('CHOICES') }}"}, "anything", "anything"),
    ({"type": "ENUM", "values": ["a", "b"]}, "a", "a"),
    ({"type": "MULTISELECT", "values": ["a", "b", "c"]}, '["a", "c"]', ["a", "c"]),
    ({"type": "MULTISELECT", "options": ["1", "2"], "itemType": "INT"}, '["2"]', [2]),
    ({"type": "ARRAY", "itemType": "INT"}, "[1, 2, 3]", [1, 2, 3]),
    ({"type": "ARRAY", "itemType": "STRING"}, '["a", "b"]', ["a", "b"]),
    ({"type": "ARRAY", "itemType": "DATE"}, '["2024-01-02"]', ["2024-01-02"]),
    ({"type": "ARRAY", "itemType": "JSON"}, '[{"a": 1}]', [{"a": 1}]),
    ({"type": "JSON"}, '{"a": [1, 2]}', {"a": [1, 2]}),
    ({"type": "JSON"}, '"text"', "text"),
    ({"type": "YAML"}, "a: 1\nb: [x, y]", {"a": 1, "b": ["x", "y"]}),
    ({"type": "YAML"}, "when: 2024-01-02", {"when": "2024-01-02"}),
    ({"type": "DATETIME"}, "2042-04-02T04:20:42.000Z", "2042-04-02T04:20:42Z"),
    ({"type": "DATETIME"}, "2042-04-02T06:20:42+02:00", "2042-04-02T04:20:42Z"),
    ({"type": "DATETIME"}, "2042-04-02T04:20:42.5Z", "2042-04-02T04:20:42.500Z"),
    (
        {"type": "DATETIME", "after": "2024-04-10T14:19:00Z"},
        "2024-04-13T14:17:00Z",
        "2024-04-13T14:17:00Z",
    ),
    ({"type": "DATE"}, "2042-12-03", "2042-12-03"),
    ({"type": "DATE", "after": "2024-04-10", "before": "2024-04-15"}, "2024-04-15", "2024-04-15"),
    ({"type": "TIME"}, "10:15:30", "10:15:30"),
    ({"type": "TIME"}, "10:15", "10:15:00"),
    ({"type": "TIME", "after": "11:01:01", "before": "11:04:01"}, "11:02:00", "11:02:00"),
    ({"type": "DURATION"}, "PT5M6S", "PT5M6S"),
    ({"type": "DURATION"}, "P1D", "PT24H"),
    ({"type": "DURATION", "min": "PT5M6S", "max": "PT12H58M46S"}, "PT1H", "PT1H"),
    ({"type": "URI"}, "https://example.com/a.csv", "https://example.com/a.csv"),
    ({"type": "URI"}, "s3://bucket/key", "s3://bucket/key"),
    ({"type": "EMAIL"}, "john@example.com", "john@example.com"),
]


@pytest.mark.parametrize(("decl", "text", "stored"), FROM_TEXT_OK)
def test_value_from_text_is_parsed(decl: dict[str, Any], text: str, stored: Any) -> None:
    value = one({"id": "x", **decl}, text)
    assert value == stored
    assert type(value) is type(stored)


FROM_TEXT_BAD: list[tuple[dict[str, Any], str, str]] = [
    (
        {"type": "STRING", "validator": r"^student(\d+)?$"},
        "studentabc",
        "does not match the pattern",
    ),
    ({"type": "SECRET", "validator": r"\d+"}, "abc", "the value does not match"),
    ({"type": "INT"}, "abc", "expected an integer, got 'abc'"),
    ({"type": "INT"}, "1.5", "expected an integer, got '1.5'"),
    ({"type": "INT", "min": 18, "max": 64}, "17", "below the minimum 18"),
    ({"type": "INT", "min": 18, "max": 64}, "65", "above the maximum 64"),
    ({"type": "FLOAT"}, "abc", "expected a number"),
    ({"type": "FLOAT"}, "nan", "expected a number"),
    ({"type": "FLOAT", "max": 5.3}, "5.4", "above the maximum 5.3"),
    ({"type": "BOOL"}, "yes", "expected true or false, got 'yes'"),
    ({"type": "SELECT", "values": ["a", "b"]}, "c", "'c' is not one of 'a', 'b'"),
    ({"type": "ENUM", "values": ["a", "b"]}, "c", "'c' is not one of 'a', 'b'"),
    ({"type": "MULTISELECT", "values": ["a", "b"]}, '["a", "z"]', "'z' is not one of 'a', 'b'"),
    ({"type": "MULTISELECT", "values": ["a", "b"]}, "a,b", "expected a JSON array"),
    ({"type": "ARRAY", "itemType": "INT"}, "[1, 2", "expected a JSON array"),
    ({"type": "ARRAY", "itemType": "INT"}, '{"a": 1}', "expected a list"),
    ({"type": "ARRAY", "itemType": "INT"}, '[1, "x"]', "item 1: expected an integer, got 'x'"),
    ({"type": "JSON"}, "{not json", "expected JSON text"),
    ({"type": "YAML"}, "a: [1, 2", "expected YAML text"),
    ({"type": "DATETIME"}, "2042-04-02T04:20:42", "with a time zone"),
    ({"type": "DATETIME"}, "2042-04-02", "with a time zone"),
    (
        {"type": "DATETIME", "before": "2024-04-15T14:19:00Z"},
        "2024-04-16T00:00:00Z",
        "must be before",
    ),
    ({"type": "DATE"}, "20421203", "expected a date such as 2042-12-03"),
    ({"type": "DATE"}, "2042-02-30", "expected a date"),
    ({"type": "DATE", "after": "2024-04-10"}, "2024-04-09", "must be after 2024-04-10"),
    ({"type": "TIME"}, "25:00:00", "expected a time"),
    ({"type": "TIME"}, "10:15:30+02:00", "expected a time"),
    ({"type": "TIME", "before": "11:04:01"}, "11:05:00", "must be before 11:04:01"),
    ({"type": "DURATION"}, "5 minutes", "expected an ISO-8601 duration"),
    ({"type": "DURATION", "min": "PT5M6S"}, "PT5M", "below the minimum 'PT5M6S'"),
    ({"type": "URI"}, "not a uri", "expected a URI with a scheme"),
    ({"type": "URI"}, "/relative/path", "expected a URI with a scheme"),
    ({"type": "EMAIL"}, "john.example.com", "expected an email address"),
    ({"type": "EMAIL"}, "john@", "expected an email address"),
]


@pytest.mark.parametrize(("decl", "text", "message"), FROM_TEXT_BAD)
def test_bad_value_from_text_is_reported(decl: dict[str, Any], text: str, message: str) -> None:
    with pytest.raises(InputValueError) as exc:
        one({"id": "x", **decl}, text)
    assert "input 'x': " in exc.value.message
    assert message in exc.value.message


# (declaration, typed JSON value, stored value)
FROM_JSON_OK: list[tuple[dict[str, Any], Any, Any]] = [
    ({"type": "STRING"}, "hello", "hello"),
    ({"type": "INT"}, 42, 42),
    ({"type": "INT"}, 42.0, 42),
    ({"type": "INT"}, "42", 42),
    ({"type": "FLOAT"}, 1, 1.0),
    ({"type": "BOOL"}, False, False),
    ({"type": "ARRAY", "itemType": "FLOAT"}, [1, 2.5], [1.0, 2.5]),
    ({"type": "ARRAY", "itemType": "BOOL"}, "[true]", [True]),
    ({"type": "MULTISELECT", "values": ["a", "b"]}, ["b"], ["b"]),
    ({"type": "JSON"}, {"a": [1, None]}, {"a": [1, None]}),
    ({"type": "JSON"}, "plain string", "plain string"),
    ({"type": "YAML"}, {"a": 1}, {"a": 1}),
    ({"type": "DATETIME"}, "2024-01-01T00:00:00-05:00", "2024-01-01T05:00:00Z"),
]


@pytest.mark.parametrize(("decl", "value", "stored"), FROM_JSON_OK)
def test_typed_value_is_accepted(decl: dict[str, Any], value: Any, stored: Any) -> None:
    result = one({"id": "x", **decl}, value, from_strings=False)
    assert result == stored
    assert type(result) is type(stored)


FROM_JSON_BAD: list[tuple[dict[str, Any], Any, str]] = [
    ({"type": "INT"}, True, "expected an integer, got True"),
    ({"type": "INT"}, 1.5, "expected an integer, got 1.5"),
    ({"type": "FLOAT"}, False, "expected a number"),
    ({"type": "BOOL"}, 1, "expected true or false, got 1"),
    ({"type": "STRING"}, {"a": 1}, "expected a string"),
    ({"type": "ARRAY", "itemType": "INT"}, {"a": 1}, "expected a list"),
    ({"type": "DATE"}, 20240101, "expected a date"),
    ({"type": "SECRET"}, {"token": "hunter2"}, "input 'x': expected a string"),
]


@pytest.mark.parametrize(("decl", "value", "message"), FROM_JSON_BAD)
def test_bad_typed_value_is_reported(decl: dict[str, Any], value: Any, message: str) -> None:
    with pytest.raises(InputValueError, match="input 'x': ") as exc:
        one({"id": "x", **decl}, value, from_strings=False)
    assert message in exc.value.message
    assert "hunter2" not in exc.value.message


# --- defaults, absence, undeclared inputs, all problems at once -----------------------------


@pytest.mark.parametrize(
    ("decl", "given", "expected"),
    [
        # a default applies when the input is not given
        ({"id": "n", "type": "INT", "defaults": 5}, {}, {"n": 5}),
        # a default written as text is parsed by the type
        ({"id": "n", "type": "INT", "defaults": "5"}, {}, {"n": 5}),
        ({"id": "j", "type": "JSON", "defaults": '{"a": 1}'}, {}, {"j": {"a": 1}}),
        ({"id": "j", "type": "JSON", "defaults": {"a": 1}}, {}, {"j": {"a": 1}}),
        # a given value wins over the default
        ({"id": "n", "type": "INT", "defaults": 5}, {"n": "6"}, {"n": 6}),
        # an expression default is returned unchanged, to be rendered by the caller
        (
            {"id": "d", "type": "DATE", "defaults": "{{ now() | date('yyyy-MM-dd') }}"},
            {},
            {"d": "{{ now() | date('yyyy-MM-dd') }}"},
        ),
        # optional, not given, no default: absent (not null)
        ({"id": "o", "type": "STRING", "required": False}, {}, {}),
        # an empty text for a non-string type is no value
        ({"id": "o", "type": "INT", "required": False}, {"o": ""}, {}),
        # prefill is a UI hint, not a default
        ({"id": "p", "type": "INT", "prefill": 42, "required": False}, {}, {}),
        # autoSelectFirst picks the first value when there is no default
        (
            {"id": "s", "type": "SELECT", "values": ["a", "b"], "autoSelectFirst": True},
            {},
            {"s": "a"},
        ),
        (
            {"id": "m", "type": "MULTISELECT", "values": ["a", "b"], "autoSelectFirst": True},
            {},
            {"m": ["a"]},
        ),
        # an optional FILE input that is not given is simply absent
        ({"id": "f", "type": "FILE", "required": False}, {}, {}),
    ],
)
def test_defaults_and_absence(
    decl: dict[str, Any], given: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert parse_inputs(declare(decl), given) == expected


@pytest.mark.parametrize(
    ("decl", "given", "message"),
    [
        (
            {"id": "r", "type": "STRING"},
            {},
            "input 'r': missing (it is required and has no default)",
        ),
        ({"id": "r", "type": "INT"}, {"r": ""}, "input 'r': missing"),
        (
            {"id": "d", "type": "INT", "defaults": "x"},
            {},
            "input 'd': expected an integer, got 'x'",
        ),
        (
            {"id": "f", "type": "FILE"},
            {},
            "input 'f': missing (it is required and has no default)",
        ),
        (
            {"id": "f", "type": "FILE", "required": False},
            {"f": "/tmp/a.txt"},
            "FILE inputs are not supported here",
        ),
        (
            {"id": "name", "type": "STRING"},
            {"name": "a", "nmae": "b"},
            "input 'nmae': unknown input; did you mean 'name'? (declared inputs: name)",
        ),
        (
            {"id": "name", "type": "STRING"},
            {"name": "a", "zzz": "b"},
            "input 'zzz': unknown input (declared inputs: name)",
        ),
    ],
)
def test_missing_and_undeclared_inputs(
    decl: dict[str, Any], given: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputValueError) as exc:
        parse_inputs(declare(decl), given)
    assert message in exc.value.message


def test_undeclared_input_on_a_flow_without_inputs() -> None:
    with pytest.raises(InputValueError, match="this flow declares no inputs"):
        parse_inputs([], {"x": "1"})


def test_all_problems_are_reported_at_once() -> None:
    declared = declare(
        {"id": "count", "type": "INT"},
        {"id": "when", "type": "DATE"},
        {"id": "flag", "type": "BOOL"},
        {"id": "ok", "type": "STRING"},
    )
    with pytest.raises(InputValueError) as exc:
        parse_inputs(declared, {"count": "abc", "flag": "maybe", "ok": "fine", "extra": "1"})
    lines = exc.value.message.splitlines()
    assert lines[0] == "Invalid inputs (4 problems):"
    assert lines[1:] == [
        "  input 'extra': unknown input (declared inputs: count, when, flag, ok)",
        "  input 'count': expected an integer, got 'abc'",
        "  input 'when': missing (it is required and has no default)",
        "  input 'flag': expected true or false, got 'maybe'",
    ]


def test_form_children_are_given_by_dotted_id_and_nest() -> None:
    declared = declare(
        {
            "id": "env",
            "type": "FORM",
            "inputs": [{"id": "region", "type": "STRING"}, {"id": "size", "type": "INT"}],
        }
    )
    values = parse_inputs(declared, {"env.region": "eu", "env.size": "3"})
    assert values == {"env.region": "eu", "env.size": 3}
    assert nest_inputs(values) == {"env": {"region": "eu", "size": 3}}
