//! Off-policy estimators against values computed by hand.

use shoplab_sim::ope::{ActionDist, Logged, evaluate, point, reward_model};

fn log() -> Vec<Logged> {
    let row = |action, reward| Logged {
        action,
        position: 0,
        reward,
        propensity: 0.5,
    };
    vec![row(0, 1.0), row(0, 1.0), row(1, 0.0), row(0, 0.0)]
}

#[test]
fn estimators_match_hand_computed_values() {
    let pi = ActionDist {
        p: vec![vec![0.8, 0.2]],
    };
    // Weights 0.8 / 0.5 = 1.6 and 0.2 / 0.5 = 0.4.
    // IPS = (1.6 + 1.6) / 4; SNIPS = 3.2 / (3 × 1.6 + 0.4).
    // Reward model, 10 pseudo-observations at the mean 0.5: q0 = (2 + 5) / 13, q1 = 5 / 11.
    // DM = 0.8 q0 + 0.2 q1; DR = DM + (2 × 1.6 (1 − q0) − 0.4 q1 − 1.6 q0) / 4.
    let q = reward_model(&log(), 2, 1, 10.0);
    assert!((q[0][0] - 7.0 / 13.0).abs() < 1e-12 && (q[0][1] - 5.0 / 11.0).abs() < 1e-12);
    let [ips, snips, dm, dr] = point(&log(), &pi, &q);
    let expected = [0.8, 0.615_384_615, 0.521_678_322, 0.630_069_930];
    for (got, want) in [ips, snips, dm, dr].iter().zip(expected) {
        assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }
    // The bootstrap interval brackets the point estimate.
    let e = evaluate(&log(), &pi, 200, 1).unwrap();
    for (_, x) in e.rows() {
        assert!(x.low <= x.value && x.value <= x.high, "{x:?}");
    }
    assert!((e.ips.value - 0.8).abs() < 1e-12);
}

#[test]
fn the_logging_policy_evaluates_to_its_own_mean() {
    // Target = behavior (uniform over 2 actions): every weight is 1, IPS is the mean reward.
    let pi = ActionDist::uniform(2, 1);
    let [ips, snips, _, _] = point(&log(), &pi, &reward_model(&log(), 2, 1, 10.0));
    assert!((ips - 0.5).abs() < 1e-12 && (snips - 0.5).abs() < 1e-12);
    // A logged policy's distribution is the frequency of its actions per position.
    let played = ActionDist::from_log(&log(), 2, 1);
    assert_eq!(played.p, vec![vec![0.75, 0.25]]);
}

#[test]
fn bad_logs_are_refused() {
    let pi = ActionDist::uniform(2, 1);
    assert!(evaluate(&[], &pi, 10, 1).is_err());
    let mut bad = log();
    bad[2].propensity = 0.0;
    let e = evaluate(&bad, &pi, 10, 1).unwrap_err().to_string();
    assert!(e.contains("row 3: propensity 0 is not in (0, 1]"), "{e}");
}
