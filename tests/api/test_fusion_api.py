"""``/api/v1/fusion``: runs over uploaded sources (dry and real), reports, the review queue
with If-Match decisions, located problems and refused mappings."""

from __future__ import annotations

from crmledger.core.access import Role
from tests.api.conftest import Api
from tests.api.examples.fusion import CONTENT, body

URL = "/api/v1/fusion"
PROBLEM = "application/problem+json"


def test_a_dry_run_answers_200_and_writes_nothing(api: Api) -> None:
    answer = api.client.post(f"{URL}/runs", json=body(dry_run=True), headers=api.auth())
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert (doc["id"], doc["dry_run"], doc["created"], doc["merged"]) == (None, True, 2, 1)
    assert doc["held"] == 2
    assert doc["for_review"] == 1
    problems = {(p["source"], p["row"], p["field"]) for p in doc["problem_list"]}
    assert problems == {("shop", 6, "email"), ("shop", 6, "phone")}
    assert api.client.get(f"{URL}/runs", headers=api.auth()).json()["items"] == []


def test_a_run_its_report_and_the_review_queue(api: Api) -> None:
    created = api.client.post(f"{URL}/runs", json=body(), headers=api.auth(Role.SALES))
    assert created.status_code == 201, created.text
    run = created.json()
    assert created.headers["location"] == f"{URL}/runs/{run['id']}"
    read = api.client.get(created.headers["location"], headers=api.auth(Role.VIEWER)).json()
    assert (read["created"], read["records_in"], read["for_review"]) == (2, 5, 1)
    report = api.client.get(f"{URL}/runs/{run['id']}/report", headers=api.auth()).json()
    assert report["counts"]["created"] == 2
    assert report["config"]["sources"][0]["options"] == {
        "text": f"uploaded, {len(CONTENT)} characters"
    }
    html = api.client.get(
        f"{URL}/runs/{run['id']}/report", params={"format": "html"}, headers=api.auth()
    )
    assert html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text
    queue = api.client.get(f"{URL}/review", headers=api.auth(Role.VIEWER)).json()["items"]
    assert len(queue) == 1
    pair = queue[0]
    assert {tuple(pair["left"]), tuple(pair["right"])} == {("shop", "3"), ("shop", "4")}
    assert pair["left_record"]["values"]["given_name"] == "Carl"
    one = api.client.get(f"{URL}/review/{pair['id']}", headers=api.auth())
    assert one.headers["etag"] == '"1"'
    refused = api.client.patch(
        f"{URL}/review/{pair['id']}",
        json={"decision": "accept"},
        headers=api.auth(Role.VIEWER) | {"If-Match": '"1"'},
    )
    assert refused.status_code == 403
    stale = api.client.patch(
        f"{URL}/review/{pair['id']}",
        json={"decision": "accept"},
        headers=api.auth() | {"If-Match": '"7"'},
    )
    assert stale.status_code in (409, 412)
    decided = api.client.patch(
        f"{URL}/review/{pair['id']}",
        json={"decision": "accept"},
        headers=api.auth() | {"If-Match": '"1"'},
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.headers["etag"]) == ("accepted", '"2"')
    again = api.client.post(f"{URL}/runs", json=body(), headers=api.auth()).json()
    assert (again["created"], again["unchanged"], again["held"]) == (1, 2, 0)
    listed = api.client.get(f"{URL}/runs", params={"limit": 1}, headers=api.auth()).json()
    assert listed["items"][0]["id"] == again["id"]
    assert listed["next_cursor"]


def test_a_bad_mapping_is_a_422_naming_its_line(api: Api) -> None:
    bad = body()
    bad["sources"][0]["mapping"] = "fields:\n  external_id: id\n  compnay: company\n"
    answer = api.client.post(f"{URL}/runs", json=bad, headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    error = answer.json()["errors"][0]
    assert error["field"] == "mapping"
    assert "shop mapping:3: unknown field 'compnay'" in error["message"]
