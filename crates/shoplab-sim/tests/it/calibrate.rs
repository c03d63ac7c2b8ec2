//! Calibration recovers the demand of a synthetic world from its own session log.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoplab_sim::calibrate::{
    CalibrateOptions, Calibration, ChoiceLog, LoggedItem, LoggedSession, calibrate,
};
use shoplab_synth::{World, WorldConfig};

/// 20,000 shoppers over 60 days: about 720,000 sessions and 40,000 purchases.
fn world() -> World {
    World::generate(&WorldConfig {
        n_users: 20_000,
        days: 60,
        ..WorldConfig::demo()
    })
}

/// The world's log as the engine reads it from a workspace.
fn choice_log(world: &World) -> ChoiceLog {
    let mut log = ChoiceLog {
        categories: world.categories.iter().map(|c| c.code.clone()).collect(),
        items: world
            .items
            .iter()
            .map(|i| LoggedItem {
                id: i.item_id.to_string(),
                category: i.category,
                list_price: Some(i.base_price),
                cost: Some(i.cost),
            })
            .collect(),
        users: world.users.iter().map(|u| u.user_id.to_string()).collect(),
        first_weekday: 1,
        ..ChoiceLog::default()
    };
    world.for_each_session(&mut |s| {
        log.sessions.push(LoggedSession {
            user: s.user as u32,
            day: s.day,
            shown: s.views.iter().map(|&(i, p)| (i as u32, p)).collect(),
            bought: s
                .purchase
                .and_then(|b| s.views.iter().position(|v| v.0 == b))
                .map(|k| vec![k as u32])
                .unwrap_or_default(),
        });
    });
    log
}

fn print(world: &World, cal: &Calibration, reference: &[f64]) {
    let r = &cal.report;
    println!(
        "{} sessions, {} purchases, {} iterations; held-out log-lik/session: model {:.5}, \
         no price {:.5}, constant {:.5}; conversion predicted {:.4}, observed {:.4}; \
         pooled β {:.3}, τ {:.3}, γ {:.3}",
        r.sessions,
        r.purchases,
        r.iterations,
        r.loglik,
        r.loglik_no_price,
        r.loglik_constant,
        r.predicted_conversion,
        r.observed_conversion,
        r.pooled_elasticity,
        r.between_sd,
        r.affinity_weight
    );
    for (c, fit) in cal.categories.iter().enumerate() {
        println!(
            "{:<34} truth {:.3} (world {:.3})  shrunk {:.3}  raw {:.3} ± {:.3}  purchases {}",
            fit.code,
            reference[c],
            world.categories[c].elasticity,
            fit.elasticity,
            fit.raw,
            fit.se,
            fit.purchases
        );
    }
}

/// Shoppers whose price sensitivity is exactly their category's: every session's choice
/// is drawn again from the world's utility with the shopper's multiplier set to 1. The
/// calibration is then the true model, with the world's embeddings as the trained model's.
#[test]
fn calibration_recovers_known_sensitivities_appeals_and_affinity_weight() {
    let world = world();
    let mut log = choice_log(&world);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for s in &mut log.sessions {
        let user = &world.users[s.user as usize];
        let utility: Vec<f64> = s
            .shown
            .iter()
            .map(|&(i, p)| {
                let item = &world.items[i as usize];
                let affinity: f32 = user
                    .embedding
                    .iter()
                    .zip(&item.embedding)
                    .map(|(a, b)| a * b)
                    .sum();
                item.appeal + f64::from(affinity)
                    - world.categories[item.category].elasticity * p.ln()
            })
            .collect();
        let total = 1.0 + utility.iter().map(|u| u.exp()).sum::<f64>();
        let draw: f64 = rng.random();
        let mut acc = 0.0;
        s.bought.clear();
        for (k, u) in utility.iter().enumerate() {
            acc += u.exp() / total;
            if draw < acc {
                s.bought.push(k as u32);
                break;
            }
        }
    }
    log.user_vectors = world.users.iter().map(|u| u.embedding.clone()).collect();
    log.item_vectors = world.items.iter().map(|i| i.embedding.clone()).collect();
    let cal = calibrate(&log, &CalibrateOptions::default(), "test".into()).unwrap();
    let truth: Vec<f64> = world.categories.iter().map(|c| c.elasticity).collect();
    print(&world, &cal, &truth);
    let r = &cal.report;
    assert!(r.purchases > 25_000, "{}", r.purchases);
    // Each category's own estimate within 3 standard errors of the truth.
    for (fit, t) in cal.categories.iter().zip(&truth) {
        assert!(
            (fit.raw - t).abs() < 3.0 * fit.se,
            "{}: {} ± {} against {t}",
            fit.code,
            fit.raw,
            fit.se
        );
    }
    // The shrunk values, what the simulator uses: 0.2 mean absolute error at most.
    let mae = cal
        .categories
        .iter()
        .zip(&truth)
        .map(|(f, t)| (f.elasticity - t).abs())
        .sum::<f64>()
        / truth.len() as f64;
    assert!(mae < 0.2, "mean absolute error {mae}");
    // The affinity weight of perfect embeddings is 1.
    assert!(
        (r.affinity_weight - 1.0).abs() < 0.1,
        "{}",
        r.affinity_weight
    );
    // Appeals (utility at the item's reference price, affinity apart) of items bought 100
    // times or more: within 0.15 on average.
    let (mut err, mut n) = (0.0, 0);
    for (fit, item) in cal.items.iter().zip(&world.items) {
        if fit.purchases >= 100 {
            let beta = world.categories[item.category].elasticity;
            err += (fit.appeal - (item.appeal - beta * fit.reference_price.ln())).abs();
            n += 1;
        }
    }
    assert!(n > 50, "{n} items bought 100 times");
    assert!(
        err / f64::from(n) < 0.15,
        "appeal error {}",
        err / f64::from(n)
    );
    // Held out, the price term and the appeals each explain choices; the predicted
    // conversion is the observed one.
    assert!(r.loglik > r.loglik_no_price && r.loglik_no_price > r.loglik_constant);
    assert!((r.predicted_conversion - r.observed_conversion).abs() < 0.003);
    for bin in &r.calibration {
        assert!((bin.predicted - bin.observed).abs() < 0.02, "{bin:?}");
    }
}

/// Each category's price sensitivity as the logged shoppers have it. The world multiplies
/// β by a per-shopper factor, and the less sensitive buy more, so the log's demand responds
/// to price by the mean of β·mult weighted by P(1 − P), the information each exposure
/// carries: what a logit with one β per category can recover.
fn effective_sensitivity(world: &World, log: &ChoiceLog) -> Vec<f64> {
    let n = world.categories.len();
    let (mut num, mut den) = (vec![0.0; n], vec![0.0; n]);
    for s in &log.sessions {
        let slate: Vec<usize> = s.shown.iter().map(|v| v.0 as usize).collect();
        let prices: Vec<f64> = s.shown.iter().map(|v| v.1).collect();
        let p = world.choice_probabilities(s.user as usize, &slate, &prices);
        let mult = world.users[s.user as usize].price_sensitivity_mult;
        for (k, &i) in slate.iter().enumerate() {
            let c = world.items[i].category;
            let w = p[k] * (1.0 - p[k]);
            num[c] += w * world.categories[c].elasticity * mult;
            den[c] += w;
        }
    }
    num.iter().zip(&den).map(|(a, b)| a / b).collect()
}

/// The world's log as generated, shoppers' sensitivities varying (log-normal, sd 0.1
/// around their category's): the estimates land on the sensitivity the buyers have,
/// within 20% per category and 12% pooled.
#[test]
fn calibration_of_heterogeneous_shoppers_recovers_their_effective_sensitivity() {
    let world = world();
    let log = choice_log(&world);
    let cal = calibrate(&log, &CalibrateOptions::default(), "test".into()).unwrap();
    let effective = effective_sensitivity(&world, &log);
    print(&world, &cal, &effective);
    for (fit, e) in cal.categories.iter().zip(&effective) {
        assert!(
            (fit.elasticity / e - 1.0).abs() < 0.2,
            "{}: {} against {e}",
            fit.code,
            fit.elasticity
        );
    }
    let weights: Vec<f64> = cal.categories.iter().map(|c| c.purchases as f64).collect();
    let mean = |v: &dyn Fn(usize) -> f64| {
        (0..weights.len()).map(|c| weights[c] * v(c)).sum::<f64>() / weights.iter().sum::<f64>()
    };
    let (fitted, truth) = (
        mean(&|c| cal.categories[c].elasticity),
        mean(&|c| effective[c]),
    );
    assert!(
        (fitted / truth - 1.0).abs() < 0.12,
        "{fitted} against {truth}"
    );
    // Arrivals: 60 logged days, the weekly shape has mean 1.
    assert_eq!(cal.env.logged_sessions.len(), 60);
    assert_eq!(cal.env.weekly.len(), 7);
    assert!((cal.env.weekly.iter().sum::<f64>() / 7.0 - 1.0).abs() < 0.01);
}
