"""Verification of the hash chain: an untouched trail verifies; each kind of tampering is
reported at the right sequence number; checkpoints catch truncation and rewrites."""
import hashlib
import hmac
import json

import pytest

import audit
from audit.chain import GENESIS
from audit.checkpoint import Checkpoint, CheckpointError, load_checkpoint, make_checkpoint, sign
from audit.cli import audit_group
from audit.models import AuditEvent
from audit.verify import hmac_sha256, verify
from edlink.extensions import db
from tests.audit.tamper import renumber, swap, tamper, trail
from tests.conftest import DB_KIND, login

FORGED = "f" * 64


def key(app):
    return app.config["AUDIT_KEY"]


def check(app, checkpoint=None, **kw):
    return verify(key(app), checkpoint, **kw)


def broken_at(app, checkpoint=None, **kw):
    result = check(app, checkpoint, **kw)
    assert not result.ok, result
    return result.bad_seq, result.problem


def test_empty_trail_verifies(app):
    result = check(app)
    assert (result.ok, result.count, result.head) == (True, 0, None)


def test_untouched_trail_verifies_with_its_head(app):
    trail(12)
    last = db.session.get(AuditEvent, 12)
    result = check(app)
    assert (result.ok, result.count, result.head.seq, result.head.hash) == (True, 12, 12, last.hash)
    assert result.head.occurred_at == last.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert "12 events" in result.line()


@pytest.mark.skipif(DB_KIND != "sqlite", reason="SQLite keeps times as text")
@pytest.mark.parametrize("seq", [2, 5])
def test_time_stored_in_another_form_of_the_same_instant_still_verifies(app, seq):
    trail(5)
    stamp = db.session.get(AuditEvent, seq).occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tamper(f"UPDATE audit_event SET occurred_at = replace(occurred_at, ' ', 'T') || '+00:00' WHERE seq = {seq}")
    result = check(app)
    assert (result.ok, result.count, result.head.seq) == (True, 5, 5)
    assert result.head.occurred_at == db.session.get(AuditEvent, 5).occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tamper(f"UPDATE audit_event SET occurred_at = '{stamp[:19]}' WHERE seq = {seq}")  # microseconds lost
    assert broken_at(app) == (seq, "altered")


@pytest.mark.parametrize("size", [1, 3, 5, 100])
def test_batches_do_not_matter(app, size):
    trail(11)
    assert check(app, batch=size).count == 11
    tamper("UPDATE audit_event SET action = 'x' WHERE seq = 7")
    assert broken_at(app, batch=size) == (7, "altered")


@pytest.mark.parametrize("key_bytes", [b"", b"short", b"k" * 64, b"long" * 40])
def test_fast_hmac_is_hmac_sha256(key_bytes):
    for message in (b"", b"abc", b"x" * 1000):
        assert hmac_sha256(key_bytes)(message) == hmac.new(key_bytes, message, hashlib.sha256).hexdigest()


def test_another_key_does_not_verify(app):
    trail(3)
    result = verify("some-other-key")
    assert (result.ok, result.bad_seq, result.count, result.head) == (False, 1, 0, None)


@pytest.mark.parametrize("change", [
    "action = 'grant.created'", "actor = 'someone-else'", "actor_id = 99", "target_id = '77'",
    "org_code = '999'", "details = '{\"i\": 5}'", "occurred_at = '2020-01-01 00:00:00.000000'",
    "hash = '" + FORGED + "'", "prev_hash = '" + FORGED + "'",
])
@pytest.mark.parametrize("seq", [1, 4, 8])
def test_altered_event(app, change, seq):
    trail(8)
    tamper(f"UPDATE audit_event SET {change} WHERE seq = {seq}")
    assert broken_at(app) == (seq, "altered")
    result = check(app)
    assert result.count == seq - 1 and (result.head.seq if result.head else 0) == seq - 1


@pytest.mark.parametrize(("deleted", "first"), [("seq = 4", 4), ("seq IN (1, 2)", 1), ("seq BETWEEN 3 AND 6", 3)])
def test_missing_events(app, deleted, first):
    trail(8)
    tamper(f"DELETE FROM audit_event WHERE {deleted}")
    assert broken_at(app) == (first, "missing")


@pytest.mark.parametrize("gone", [1, 4])
def test_missing_event_with_the_rest_renumbered(app, gone):
    trail(8)
    tamper(f"DELETE FROM audit_event WHERE seq = {gone}", *renumber(f"seq > {gone}", -1))
    assert broken_at(app) == (gone, "missing")


@pytest.mark.parametrize(("a", "b"), [(3, 4), (2, 6), (1, 8)])
def test_reordered_events(app, a, b):
    trail(8)
    tamper(*swap(a, b))
    assert broken_at(app) == (a, "reordered")


def test_inserted_forgery_in_the_middle(app):
    trail(8)
    tamper(*renumber("seq >= 5", 1),
           "INSERT INTO audit_event (seq, occurred_at, action, actor, details, prev_hash, hash) "
           "SELECT 5, occurred_at, 'grant.created', 'admin', '{}', hash, :forged FROM audit_event WHERE seq = 4",
           forged=FORGED)
    assert broken_at(app) == (5, "inserted")


def test_inserted_replay_of_an_event(app):
    trail(8)
    tamper("INSERT INTO audit_event (seq, occurred_at, action, actor, actor_id, target_type, target_id, "
           "org_code, details, prev_hash, hash) SELECT 9, occurred_at, action, actor, actor_id, target_type, "
           "target_id, org_code, details, prev_hash, hash FROM audit_event WHERE seq = 3")
    assert broken_at(app) == (9, "inserted")


def test_inserted_forgery_at_the_end(app):
    trail(8)
    tamper("INSERT INTO audit_event (seq, occurred_at, action, actor, details, prev_hash, hash) "
           "VALUES (9, '2030-01-01 00:00:00.000000', 'grant.created', 'admin', '{}', :forged, :forged)",
           forged=FORGED)
    assert broken_at(app) == (9, "inserted")


def test_truncation_needs_a_checkpoint(app):
    trail(8)
    checkpoint = make_checkpoint(key(app))
    tamper("DELETE FROM audit_event WHERE seq >= 7")
    assert check(app).ok  # the chain alone cannot tell
    assert broken_at(app, checkpoint) == (7, "truncated")


def test_checkpoint_still_holds_as_the_trail_grows(app):
    trail(5)
    checkpoint = make_checkpoint(key(app))
    trail(4, start=5)
    result = check(app, checkpoint)
    assert (result.ok, result.count, result.checkpoint_seq) == (True, 9, 5)


@pytest.mark.parametrize("fresh", [9, 5, 3])
def test_rewrite_with_a_fresh_chain_is_caught_by_an_earlier_checkpoint(app, fresh):
    trail(5)
    checkpoint = make_checkpoint(key(app))
    tamper("DELETE FROM audit_event")
    for i in range(fresh):  # re-appended with the real key: the chain itself is perfect
        audit.record("test.event", "system:rewriter", ("thing", i))
    db.session.commit()
    assert check(app).ok
    expected = (5, "rewritten") if fresh >= 5 else (fresh + 1, "truncated")
    assert broken_at(app, checkpoint) == expected


def test_checkpoint_document_round_trips(app):
    trail(3)
    checkpoint = make_checkpoint(key(app))
    doc = json.loads(checkpoint.to_json())
    assert set(doc) == {"seq", "hash", "occurred_at", "signature"}
    assert (doc["seq"], doc["hash"]) == (3, db.session.get(AuditEvent, 3).hash)
    assert load_checkpoint(checkpoint.to_json(), key(app)) == checkpoint


def test_empty_trail_checkpoint(app):
    checkpoint = make_checkpoint(key(app))
    assert (checkpoint.seq, checkpoint.hash, checkpoint.occurred_at) == (0, GENESIS, None)
    trail(2)
    assert check(app, load_checkpoint(checkpoint.to_json(), key(app))).ok


@pytest.mark.parametrize(("field", "value"), [("seq", 2), ("seq", 300), ("hash", "0" * 64),
                                              ("occurred_at", "2020-01-01T00:00:00.000000Z"),
                                              ("signature", "0" * 64), ("signature", "zz")])
def test_tampered_checkpoint_is_rejected(app, field, value):
    trail(3)
    doc = json.loads(make_checkpoint(key(app)).to_json())
    doc[field] = value
    with pytest.raises(CheckpointError, match="signature|hash"):
        load_checkpoint(json.dumps(doc), key(app))


@pytest.mark.parametrize("text", ["not json", "[]", '{"seq": 1}', '{"seq": -1, "hash": "", "occurred_at": null, '
                                  '"signature": ""}'])
def test_unusable_checkpoint_is_rejected(app, text):
    with pytest.raises(CheckpointError):
        load_checkpoint(text, key(app))


def test_checkpoint_made_with_another_key_is_rejected(app):
    trail(2)
    good = make_checkpoint(key(app))
    other = Checkpoint(good.seq, good.hash, good.occurred_at, sign("another-key", good.seq, good.hash,
                                                                   good.occurred_at))
    with pytest.raises(CheckpointError, match="another audit key"):
        load_checkpoint(other.to_json(), key(app))


def test_no_checkpoint_for_a_broken_trail(app):
    trail(3)
    tamper("UPDATE audit_event SET actor = 'x' WHERE seq = 2")
    with pytest.raises(CheckpointError, match="seq 2: altered"):
        make_checkpoint(key(app))


# -- the command line -------------------------------------------------------------------------

def test_cli_verify_intact(app):
    trail(4)
    result = app.test_cli_runner().invoke(audit_group, ["verify"])
    assert result.exit_code == 0, result.output
    assert "4 events" in result.output and "head seq 4" in result.output


def test_cli_verify_reports_the_first_bad_seq(app):
    trail(6)
    tamper("UPDATE audit_event SET details = '{\"i\": 1}' WHERE seq = 5", "DELETE FROM audit_event WHERE seq = 6")
    result = app.test_cli_runner().invoke(audit_group, ["verify"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "seq 5: altered" in result.output


def test_cli_checkpoint_and_verify_against_it(app, tmp_path):
    runner = app.test_cli_runner()
    trail(5)
    made = runner.invoke(audit_group, ["checkpoint"])
    assert made.exit_code == 0, made.output
    path = tmp_path / "checkpoint.json"
    path.write_text(made.output)
    assert load_checkpoint(made.output, key(app)).seq == 5
    ok = runner.invoke(audit_group, ["verify", "--checkpoint", str(path)])
    assert ok.exit_code == 0 and "checkpoint at seq 5" in ok.output
    tamper("DELETE FROM audit_event WHERE seq > 3")
    cut = runner.invoke(audit_group, ["verify", "--checkpoint", str(path)])
    assert cut.exit_code == 1 and "seq 4: truncated" in cut.output
    path.write_text(made.output.replace('"seq":5', '"seq":3'))
    forged = runner.invoke(audit_group, ["verify", "--checkpoint", str(path)])
    assert forged.exit_code == 1 and "signature does not match" in forged.output
    missing = runner.invoke(audit_group, ["verify", "--checkpoint", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_cli_checkpoint_refuses_a_broken_trail(app):
    trail(3)
    tamper("DELETE FROM audit_event WHERE seq = 2")
    result = app.test_cli_runner().invoke(audit_group, ["checkpoint"])
    assert result.exit_code == 1 and "seq 2: missing" in result.output


# -- the API ----------------------------------------------------------------------------------

@pytest.fixture
def api_app(demo):
    """The demo app with the audit API (registered here until the app factory does it)."""
    from audit.api import blp
    if blp.name not in demo.blueprints:
        demo.register_blueprint(blp)
    return demo


def test_api_verify(api_app, client):
    login(client, "auditor")
    body = client.get("/api/v1/audit/verify").get_json()
    assert body["ok"] is True and body["count"] >= 1 and body["head"]["seq"] == body["count"]
    bad = body["count"] - 1
    tamper(f"UPDATE audit_event SET actor = 'nobody' WHERE seq = {bad}")
    resp = client.get("/api/v1/audit/verify")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["ok"], body["bad_seq"], body["problem"]) == (False, bad, "altered")
    assert body["head"]["seq"] == bad - 1 and body["count"] == bad - 1


def test_api_verify_needs_the_audit_permission(api_app, client):
    assert client.get("/api/v1/audit/verify").status_code == 401
    login(client, "teacher")
    resp = client.get("/api/v1/audit/verify")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
