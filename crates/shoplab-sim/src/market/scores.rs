//! A trained model's view of the simulated shop, for the recommenders `run:<id>` and
//! `expected-revenue:<id>`.

/// A trained model's view of the simulated shop, built by the engine from the model lab's
/// registry: a score per shopper and item (row-major, the environment's users × items; a
/// shopper the model does not know gets the mean row), and for a conversion model the
/// price term, so that `P(buy) = σ(score − slope_i · ln(price / reference_i))`.
#[derive(Debug, Clone)]
pub struct ModelScores {
    pub scores: Vec<f32>,
    pub price: Option<PriceTerm>,
}

#[derive(Debug, Clone)]
pub struct PriceTerm {
    pub slope: Vec<f32>,
    pub reference: Vec<f64>,
}

impl ModelScores {
    pub(super) fn purchase_probability(&self, row: usize, i: usize, price: f64) -> f64 {
        let s = f64::from(self.scores[row + i]);
        let logit = match &self.price {
            Some(t) => s - f64::from(t.slope[i]) * (price / t.reference[i]).ln(),
            None => s,
        };
        1.0 / (1.0 + (-logit).exp())
    }
}
