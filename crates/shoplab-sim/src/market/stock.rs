//! Units left per item, when the scenario limits stock.

/// Units left per item (`None`: unlimited stock).
pub(super) struct Stock(Option<Vec<u64>>);

impl Stock {
    /// `units` of each of `n` items (`None`: unlimited).
    pub(super) fn new(units: Option<u64>, n: usize) -> Self {
        Stock(units.map(|units| vec![units; n]))
    }

    /// Whether item `i` has a unit left.
    pub(super) fn is_open(&self, i: usize) -> bool {
        self.0.as_ref().is_none_or(|s| s[i] > 0)
    }

    /// Marks the sold-out items as not available.
    pub(super) fn close_sold_out(&self, in_stock: &mut [bool]) {
        if let Some(stock) = &self.0 {
            for (open, left) in in_stock.iter_mut().zip(stock) {
                *open &= *left > 0;
            }
        }
    }

    /// Units left of item `i` (infinite when unlimited).
    pub(super) fn left(&self, i: usize) -> f64 {
        self.0.as_ref().map_or(f64::INFINITY, |s| s[i] as f64)
    }

    /// One unit of item `i` sold.
    pub(super) fn take(&mut self, i: usize) {
        if let Some(stock) = &mut self.0 {
            stock[i] -= 1;
        }
    }

    /// Units left in all (limited stock only).
    pub(super) fn total(&self) -> Option<u64> {
        self.0.as_ref().map(|s| s.iter().sum())
    }
}
