"""``POST /parties/{id}/merge`` with If-Match on the survivor, the merge list and one
merge, ``POST /party-merges/{id}/undo``; refusals as problems; finance records need
``billing:write``."""

from __future__ import annotations

from crmledger.core.access import Role
from crmledger.core.crm.parties import ExternalId, Party, PartyKind
from tests.api.conftest import Api
from tests.db.test_billing import invoice

PROBLEM = "application/problem+json"


def _org(api: Api, name: str, ext: str) -> int:
    party = Party(PartyKind.ORGANISATION, name, external_ids=(ExternalId("crm", ext),))
    return int(api.book.parties.add(party).id or 0)


def test_merge_and_undo_over_the_api(api: Api) -> None:
    acme, copy = _org(api, "Acme GmbH", "C1"), _org(api, "ACME", "C2")
    bill = invoice(api.book, copy, "10.00")
    tag = api.client.get(f"/api/v1/parties/{acme}", headers=api.auth()).headers["etag"]
    url = f"/api/v1/parties/{acme}/merge"
    missing = api.client.post(url, json={"absorbed_id": copy}, headers=api.auth())
    assert missing.status_code == 428
    stale = api.client.post(
        url, json={"absorbed_id": copy}, headers=api.auth() | {"If-Match": '"9"'}
    )
    assert (stale.status_code, stale.headers["content-type"]) == (412, PROBLEM)
    # Sales may write parties but not billing: the copy's invoice would move.
    sales = api.client.post(
        url, json={"absorbed_id": copy}, headers=api.auth(Role.SALES) | {"If-Match": tag}
    )
    assert sales.status_code == 403
    itself = api.client.post(
        url, json={"absorbed_id": acme}, headers=api.auth() | {"If-Match": tag}
    )
    assert itself.status_code == 422
    assert itself.json()["errors"][0]["field"] == "absorbed_id"
    done = api.client.post(
        url, json={"absorbed_id": copy}, headers=api.auth(Role.ACCOUNTANT) | {"If-Match": tag}
    )
    assert done.status_code == 201, done.text
    merge = done.json()
    assert done.headers["location"] == f"/api/v1/party-merges/{merge['id']}"
    assert done.headers["etag"] == '"2"'
    assert (merge["survivor_id"], merge["absorbed_id"], merge["status"]) == (acme, copy, "active")
    assert merge["moved"] == {"billing_documents.party_id": 1, "party_external_ids.party_id": 1}
    assert api.book.invoices.get(bill.id).party_id == acme
    party = api.client.get(f"/api/v1/parties/{acme}", headers=api.auth()).json()
    assert {e["id"] for e in party["external_ids"]} == {"C1", "C2"}
    again = api.client.post(
        url, json={"absorbed_id": copy}, headers=api.auth() | {"If-Match": '"2"'}
    )
    assert again.status_code == 409
    listed = api.client.get(
        "/api/v1/party-merges", params={"party_id": copy}, headers=api.auth(Role.VIEWER)
    ).json()
    assert [m["id"] for m in listed["items"]] == [merge["id"]]
    one = api.client.get(done.headers["location"], headers=api.auth(Role.VIEWER)).json()
    assert one == merge
    undo = f"/api/v1/party-merges/{merge['id']}/undo"
    assert api.client.post(undo, headers=api.auth(Role.VIEWER)).status_code == 403
    assert api.client.post(undo, headers=api.auth(Role.SUPPORT)).status_code == 403
    undone = api.client.post(undo, headers=api.auth())
    assert undone.status_code == 200, undone.text
    assert (undone.json()["status"], undone.json()["undone_by"]) == ("undone", "user:1/token:1")
    assert api.book.invoices.get(bill.id).party_id == copy
    twice = api.client.post(undo, headers=api.auth())
    assert (twice.status_code, twice.json()["type"]) == (409, "urn:crmledger:problem:conflict")
    assert api.client.get("/api/v1/party-merges/999", headers=api.auth()).status_code == 404


def test_writes_to_a_merged_party_are_conflicts_until_the_undo(api: Api) -> None:
    acme, copy = _org(api, "Acme GmbH", "C1"), _org(api, "ACME", "C2")
    merge = api.book.party_merges.merge(acme, copy)
    read = api.client.get(f"/api/v1/parties/{copy}", headers=api.auth())
    assert (read.status_code, read.json()["display_name"]) == (200, "ACME")
    detail = (
        f"party {copy} was merged into party {acme} (merge {merge.id}): "
        f"write to party {acme}, or undo the merge"
    )
    patch = api.client.patch(
        f"/api/v1/parties/{copy}",
        json={"segment": "SMB"},
        headers=api.auth() | {"If-Match": read.headers["etag"]},
    )
    assert (patch.status_code, patch.headers["content-type"]) == (409, PROBLEM)
    assert (patch.json()["type"], patch.json()["detail"]) == (
        "urn:crmledger:problem:conflict",
        detail,
    )
    note = {
        "kind": "note",
        "party_id": copy,
        "subject": "Called",
        "channel": "phone",
        "direction": "outbound",
        "occurred_at": "2026-06-30T09:00:00+02:00",
    }
    added = api.client.post("/api/v1/interactions", json=note, headers=api.auth())
    assert (added.status_code, added.json()["detail"]) == (409, detail)
    api.book.party_merges.unmerge(merge.id)
    tag = api.client.get(f"/api/v1/parties/{copy}", headers=api.auth()).headers["etag"]
    patch = api.client.patch(
        f"/api/v1/parties/{copy}", json={"segment": "SMB"}, headers=api.auth() | {"If-Match": tag}
    )
    assert (patch.status_code, patch.json()["segment"]) == (200, "SMB")
    added = api.client.post("/api/v1/interactions", json=note, headers=api.auth())
    assert (added.status_code, added.json()["party_id"]) == (201, copy)
