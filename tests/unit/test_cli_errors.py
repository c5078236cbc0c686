"""The CLI's last line on an error (lanner.cli.exitcodes.guarded) masks secrets."""

from __future__ import annotations

import pytest

from lanner.cli.exitcodes import exit_code_for, guarded
from lanner.errors import LannerError
from lanner.expr import taint

SECRET = "hunter2-very-secret"


@pytest.mark.parametrize(
    "exc", [LannerError(f"cannot reach {SECRET}"), RuntimeError(f"boom {SECRET}")]
)
def test_the_error_line_masks_every_known_secret(
    exc: BaseException, capsys: pytest.CaptureFixture[str]
) -> None:
    taint.mark(SECRET)

    @guarded
    def command(*, debug: bool) -> int:
        raise exc

    with pytest.raises(SystemExit) as ended:
        command(debug=False)
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "******" in err
    assert ended.value.code == exit_code_for(exc)
