"""bench/gate.py's core at a tiny scale, so it cannot rot: the policy it gives pycasbin's
FastEnforcer (RBAC with domains, org-scope grants expanded to the orgs they cover) answers every
sampled check as the gate does, fresh requests and repeated checks alike."""
from bench.gate import compare, read_policy, sample_checks
from bench.statewide import generate

SCALE = 0.002  # 200 staff, 600 grants (1.0: 100,000 and 300,000)


def test_the_gate_and_casbin_agree_on_the_statewide_sample(app):
    generate(app, scale=SCALE, seed=7)
    policy = read_policy(app)
    assert policy.grants and len(policy.org_ids) >= 5
    result = compare(app, users=60, per_user=6, fresh=120, policy=policy)
    assert result.differ == [] and result.fresh_differ == []
    assert result.agree == result.checks >= 300
    assert 0 < result.allowed < result.checks  # a mix of allowed and refused
    assert result.fresh.n == 120 and result.repeated.n == result.memo.n == result.casbin.n == result.checks
    codes = set(result.per_code)
    assert "granted" in codes and codes - {"granted"}  # refusals of more than one kind


def test_the_sample_is_deterministic_and_asks_each_question_once_per_user(app):
    generate(app, scale=SCALE, seed=7)
    policy = read_policy(app)
    first, second = sample_checks(policy, 40, 5, 3), sample_checks(policy, 40, 5, 3)
    assert first == second
    assert len({(c.user_id, c.permission, c.org_id) for c in first}) == len(first)
