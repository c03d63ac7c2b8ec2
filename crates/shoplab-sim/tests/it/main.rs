//! Simulation-lab tests: calibration recovers a synthetic world's demand, what-if
//! scenarios on the market, off-policy estimators, pricing bandits, the top-k scan.

mod calibrate;
mod market;
mod ope;
mod pricing;
mod scenario_props;
mod topk;
