"""Every filter and test, one row each (SPEC §6.3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lanner.expr import RenderError


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # text
        ("{{ 'abc' | upper }}", "ABC"),
        ("{{ 'ABC' | lower }}", "abc"),
        ("{{ 'hello wORLD' | capitalize }}", "Hello wORLD"),
        ("{{ 'hello big world' | title }}", "Hello Big World"),
        ("{{ '  x  ' | trim }}", "x"),
        ("{{ 'abcdefghij' | abbreviate(6) }}", "abc..."),
        ("{{ 'a-b-c' | replace({'-': '+'}) }}", "a+b+c"),
        ("{{ 'a-b-c' | replace('-', '') }}", "abc"),
        ("{{ 'a,b,,' | split(',') }}", '["a","b"]'),
        ("{{ 'a.b.c' | split('.', 2) }}", '["a","b.c"]'),
        ("{{ 'abc' | startsWith('ab') }}", "true"),
        ("{{ 'abc' | endsWith('bc') }}", "true"),
        ("{{ 'a.b.c' | substringBefore('.') }}", "a"),
        ("{{ 'a.b.c' | substringBeforeLast('.') }}", "a.b"),
        ("{{ 'a.b.c' | substringAfter('.') }}", "b.c"),
        ("{{ 'a.b.c' | substringAfterLast('.') }}", "c"),
        ("{{ 'abc' | substringAfter('z') }}", ""),
        ("{{ 'Héllo World!' | slugify }}", "hello-world"),
        ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
        ("{{ 'a\nb' | nindent(2) }}", "\n  a\n  b"),
        ("{{ 'it\\'s' | escapeChar('single') }}", "it\\'s"),
        ("{{ 'say \"hi\"' | escapeChar('double') }}", 'say \\"hi\\"'),
        ("{{ 'abc' | base64encode }}", "YWJj"),
        ("{{ 'YWJj' | base64decode }}", "abc"),
        ("{{ 'abc' | md5 }}", "900150983cd24fb0d6963f7d28e17f72"),
        ("{{ 'abc' | sha1 }}", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            "{{ 'abc' | sha256 }}",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        ("{{ 'abc' | sha512 | length }}", "128"),
        ("{{ 'a b&c' | urlencode }}", "a+b%26c"),
        ("{{ 'a+b%26c' | urldecode }}", "a b&c"),
        ("{{ '12' | number + 1 }}", "13"),
        ("{{ '1.5' | number }}", "1.5"),
        ("{{ '12' | number('DOUBLE') }}", "12.0"),
        ("{{ 1234567.891 | numberformat('#,##0.00') }}", "1,234,567.89"),
        ("{{ 0.5 | numberFormat('0.000') }}", "0.500"),
        ("{{ -3 | abs }}", "3"),
        ("{{ 2.567 | round(2) }}", "2.57"),
        ("{{ 42 | string ~ '' }}", "42"),
        # collections
        ("{{ 'abc' | length }}", "3"),
        ("{{ xs | length }}", "3"),
        ("{{ null | length }}", "0"),
        ("{{ xs | first }}", "3"),
        ("{{ xs | last }}", "2"),
        ("{{ 'abc' | first }}", "a"),
        ("{{ xs | join(',') }}", "3,1,2"),
        ("{{ m | keys }}", '["a","b"]'),
        ("{{ {'a': 1} | values }}", "[1]"),
        ("{{ [1, 1, 2] | distinct }}", "[1,2]"),
        ("{{ [[1], [2, 3], 4] | flatten }}", "[1,2,3,4]"),
        ("{{ [1, 2, 3] | chunk(2) }}", "[[1,2],[3]]"),
        ("{{ xs | sort }}", "[1,2,3]"),
        ("{{ xs | rsort }}", "[3,2,1]"),
        ("{{ xs | reverse }}", "[2,1,3]"),
        ("{{ 'abc' | reverse }}", "cba"),
        ("{{ [1, 2, 3, 4] | slice(1, 3) }}", "[2,3]"),
        ("{{ 'abcd' | slice(1, 3) }}", "bc"),
        ("{{ {'a': 1} | merge({'b': 2}) }}", '{"a":1,"b":2}'),
        ("{{ [1] | merge([2]) }}", "[1,2]"),
        # JSON, YAML, jq
        ("{{ 'x' | toJson }}", '"x"'),
        ("{{ null | toJson }}", "null"),
        ("{{ m | json }}", '{"a":1,"b":[1,2]}'),
        ("{{ {'a': [1, 2]} | yaml }}", "a:\n- 1\n- 2\n"),
        ("{{ m | jq('.a') }}", "[1]"),
        ("{{ m | jq('.b[]') }}", "[1,2]"),
        ("{{ '{\"k\": 5}' | jq('.k') | first }}", "5"),
        ("{{ 1 | className }}", "java.lang.Integer"),
        ("{{ 'a' | className }}", "java.lang.String"),
        # default: undefined, null, empty (§0 decision 5, Pebble's emptiness)
        ("{{ outputs.missing | default('d') }}", "d"),
        ("{{ outputs.missing.deep.chain | default('d') }}", "d"),
        ("{{ outputs.first.nothing | default('d') }}", "d"),
        ("{{ inputs.empty | default('d') }}", "d"),
        ("{{ inputs.blank | default('d') }}", "d"),
        ("{{ [] | default('d') }}", "d"),
        ("{{ 0 | default('d') }}", "0"),
        ("{{ inputs.name | default('d') }}", "World"),
        # dates
        ("{{ execution.startDate | date('yyyy-MM-dd') }}", "2025-01-02"),
        ("{{ execution.startDate | date }}", "2025-01-02T10:00:00.123456Z"),
        ("{{ execution.startDate | date('iso_milli') }}", "2025-01-02T10:00:00.123Z"),
        ("{{ execution.startDate | date('iso_sec') }}", "2025-01-02T10:00:00Z"),
        ("{{ execution.startDate | date('sql') }}", "2025-01-02 10:00:00.123456"),
        ("{{ execution.startDate | date('sql_milli') }}", "2025-01-02 10:00:00.123"),
        ("{{ execution.startDate | date('sql_sec') }}", "2025-01-02 10:00:00"),
        ("{{ execution.startDate | date('iso_date') }}", "2025-01-02Z"),
        ("{{ execution.startDate | date('iso_time') }}", "10:00:00.123456Z"),
        ("{{ execution.startDate | date('iso_date_time') }}", "2025-01-02T10:00:00.123456Z"),
        (
            "{{ execution.startDate | date('EEE, dd MMM yyyy HH:mm:ss.SSS XXX') }}",
            "Thu, 02 Jan 2025 10:00:00.123 Z",
        ),
        ("{{ execution.startDate | date('EEEE MMMM d h a') }}", "Thursday January 2 10 AM"),
        ("{{ execution.startDate | date('HH:mm XXX', timeZone='Europe/Paris') }}", "11:00 +01:00"),
        ("{{ execution.startDate | date(\"yyyy-MM-dd'T'HH\") }}", "2025-01-02T10"),
        ("{{ '02/01/2025' | date('yyyy-MM-dd', existingFormat='dd/MM/yyyy') }}", "2025-01-02"),
        ("{{ 0 | date('yyyy-MM-dd HH:mm:ss') }}", "1970-01-01 00:00:00"),
        ("{{ execution.startDate | dateAdd(1, 'DAYS') | date('yyyy-MM-dd') }}", "2025-01-03"),
        ("{{ execution.startDate | dateAdd(-2, 'HOURS') | date('HH') }}", "08"),
        ("{{ '2025-01-31T00:00:00Z' | dateAdd(1, 'MONTHS') | date('yyyy-MM-dd') }}", "2025-02-28"),
        ("{{ '2025-01-31T00:00:00Z' | dateAdd(1, 'YEARS') | date('yyyy') }}", "2026"),
        ("{{ '2025-01-01T00:00:00Z' | dateAdd(1, 'WEEKS') | date('dd') }}", "08"),
        ("{{ '2025-01-01T00:00:00Z' | dateAdd(90, 'MINUTES') | date('HH:mm') }}", "01:30"),
        ("{{ '2025-01-01T00:00:00Z' | dateAdd(5, 'SECONDS') | date('ss') }}", "05"),
        ("{{ '1970-01-01T00:01:00Z' | timestamp }}", "60"),
        ("{{ '1970-01-01T00:00:01.5Z' | timestampMilli }}", "1500"),
        ("{{ '1970-01-01T00:00:01.5Z' | timestampMicro }}", "1500000"),
        ("{{ '1970-01-01T00:00:01.5Z' | timestampNano }}", "1500000000"),
    ],
)
def test_filter(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ outputs.missing is defined }}", "false"),
        ("{{ outputs.missing.deep is defined }}", "false"),
        ("{{ outputs.first.nothing is defined }}", "true"),
        ("{{ outputs.missing is not defined }}", "true"),
        ("{{ outputs.first.nothing is null }}", "true"),
        ("{{ 1 is null }}", "false"),
        ("{{ '' is empty }}", "true"),
        ("{{ ' ' is empty }}", "true"),
        ("{{ [] is empty }}", "true"),
        ("{{ {} is empty }}", "true"),
        ("{{ null is empty }}", "true"),
        ("{{ 'a' is empty }}", "false"),
        ("{{ 2 is even }}", "true"),
        ("{{ 3 is odd }}", "true"),
        ("{{ xs is iterable }}", "true"),
        ("{{ 'abc' is iterable }}", "false"),
        ("{{ m is map }}", "true"),
        ("{{ xs is map }}", "false"),
        ("{{ '{\"a\": 1}' is json }}", "true"),
        ("{{ '{a' is json }}", "false"),
    ],
)
def test_test(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' | nosuchfilter }}",
        "{{ 'x' is nosuchtest }}",
        "{{ outputs.missing | upper }}",
        "{{ 'abc' | number }}",
        "{{ 'x' | jq('.[') }}",
        "{{ 'not a date' | date }}",
        "{{ 1.5 is even }}",
        "{{ 'a' | dateAdd(1, 'DAYS') }}",
        "{{ 'a' | escapeChar('weird') }}",
        "{{ '%%%' | base64decode }}",
        "{{ [1, 'a'] | sort }}",
    ],
)
def test_filter_errors(render: Callable[[str], str], template: str) -> None:
    with pytest.raises(RenderError):
        render(template)
