"""The JSON twins against their own OpenAPI schema (`/api/openapi.json`, FastAPI's generated schema of the
/api/ routes): schemathesis generates requests for every operation, valid and invalid, sent with an admin's
API token (every route admits an admin), and no answer may be a server error (5xx)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from pharmwatch.config import load_settings
from pharmwatch.schedule_desk import SettingsScheduleDesk
from storage import db
from tests.web import world as world_module
from web import auth
from web.app import WebConfig, create_app

EXAMPLES = 40  # generated requests per operation
# Routes that run `pharmwatch` in a child process (evidence export, re-check, check now, check-due, a package
# exported for a referral): an app built without the command (`WebConfig.cli`, set by `pharmwatch serve`), as here,
# answers them 503 by design.
NEEDS_CLI = {"/api/cases/{case_id}/evidence", "/api/cases/{case_id}/recheck", "/api/tips/{tip_id}/check",
             "/api/orders/check-due", "/api/cases/{case_id}/referral", "/api/referrals/{referral_id}/package"}


@pytest.mark.slow  # sweeps: EXAMPLES requests for each of the twenty-odd operations
def test_no_request_to_the_api_gets_a_server_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", world_module.cheap_hasher())
    world = world_module.build(tmp_path / "home")
    # With the scheduler's settings, as `pharmwatch serve` builds it: the schedule routes do their work.
    office = load_settings(environ={"PHARMWATCH_HOME": str(tmp_path / "home")})
    app = create_app(WebConfig(blob_dir=world.blob_dir, schedules=SettingsScheduleDesk(office)),
                     world.sessions.kw["bind"])
    with db.transaction(world.sessions) as session:
        token = {"Authorization": f"Bearer {auth.new_api_token(session, 'ada', 'schemathesis', actor='test')}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every JSON twin is described
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case) -> None:  # type: ignore[no-untyped-def]
            if case.operation.path in NEEDS_CLI:
                response = case.call(headers=token)
                assert response.status_code < 500 or response.status_code == 503, case.as_curl_command()
            else:
                case.call_and_validate(headers=token, checks=[not_a_server_error])

        no_server_error()


def test_what_schemathesis_found_is_answered_400(world, api_client) -> None:  # type: ignore[no-untyped-def]
    ada = api_client("ada")
    # An id past SQLite's 64-bit integers was a 500 (OverflowError in the driver).
    assert ada.get("/api/cases/9223372036854775808").status_code == 400
    # Past PostgreSQL's 32-bit ids (the driver refuses the parameter there): no such case, never a 500.
    assert ada.get("/api/cases/2147483648").status_code in (400, 404)
    # PostgreSQL's text cannot hold a NUL character (psycopg refuses it): the request is wrong, as on SQLite.
    assert ada.get("/api/audit?action=%00").status_code in (200, 400)
    assert ada.get("/api/daily?category=%00").status_code in (200, 400)
    # Years of daily periods held the server for minutes; the CLI's `report stats` takes long ranges.
    response = ada.get("/api/dashboard?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 400 and "report stats" in response.json()["error"]
    assert ada.get("/api/dashboard?to=0001-01-02").status_code == 400  # the default start is before year 1
