import pytest

from tests.support.http_sink import http_sink as _http_sink

http_sink = pytest.fixture(_http_sink)
