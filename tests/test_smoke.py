from fastapi.testclient import TestClient

from tests.conftest import Account, minimal_metadata


def test_deposit_publish_download(client: TestClient, depositor: Account) -> None:
    created = client.post("/api/records", json={"metadata": minimal_metadata()}, headers=depositor.headers)
    assert created.status_code == 201, created.text
    vid = created.json()["id"]
    up = client.put(f"/api/records/{vid}/files/data.csv", content=b"a,b\n1,2\n", headers=depositor.headers)
    assert up.status_code == 201, up.text
    pub = client.post(f"/api/records/{vid}/publish", headers=depositor.headers)
    assert pub.status_code == 200, pub.text
    assert pub.json()["state"] == "published"
    got = client.get(f"/api/records/{vid}/files/data.csv")
    assert got.content == b"a,b\n1,2\n"
