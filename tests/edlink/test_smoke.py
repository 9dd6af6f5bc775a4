from tests.conftest import login


def test_demo_logins_sign_in_and_pages_render(demo, client):
    from edlink.demo import DEMO_LOGINS
    for username, password, _ in DEMO_LOGINS:
        c = demo.test_client()
        login(c, username, password)
        assert c.get("/").status_code == 200
        assert c.get("/account").status_code == 200
        me = c.get("/api/v1/me").get_json()
        assert me["username"] == username


def test_openapi_document(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert "/api/v1/me/link" in resp.get_json()["paths"]
