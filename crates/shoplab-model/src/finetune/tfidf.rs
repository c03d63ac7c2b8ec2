//! TF-IDF features of review text: the baseline the encoders are measured against.

use std::collections::HashMap;

use super::linear::Features;

/// TF-IDF over lower-case words and adjacent word pairs seen in at least two training texts:
/// sublinear term frequency (1 + ln tf) times the smoothed idf, each row L2-normalized.
#[derive(Debug, Clone)]
pub struct Tfidf {
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
}

fn terms(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let pairs: Vec<String> = words
        .windows(2)
        .map(|p| format!("{} {}", p[0], p[1]))
        .collect();
    words.into_iter().chain(pairs).collect()
}

impl Tfidf {
    pub fn fit(texts: &[&str]) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        for t in texts {
            let mut seen = terms(t);
            seen.sort();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, u32)> = df.into_iter().filter(|(_, d)| *d >= 2).collect();
        kept.sort();
        let n = texts.len() as f32;
        let idf = kept
            .iter()
            .map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0)
            .collect();
        let vocab = kept
            .into_iter()
            .enumerate()
            .map(|(k, (w, _))| (w, k as u32))
            .collect();
        Tfidf { vocab, idf }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    pub fn transform(&self, texts: &[&str]) -> Features {
        let rows = texts
            .iter()
            .map(|t| {
                let mut tf: HashMap<u32, f32> = HashMap::new();
                for w in terms(t) {
                    if let Some(&k) = self.vocab.get(&w) {
                        *tf.entry(k).or_default() += 1.0;
                    }
                }
                let mut row: Vec<(u32, f32)> = tf
                    .into_iter()
                    .map(|(k, c)| (k, (1.0 + c.ln()) * self.idf[k as usize]))
                    .collect();
                row.sort_by_key(|e| e.0);
                let norm = row.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt().max(1e-12);
                row.iter_mut().for_each(|e| e.1 /= norm);
                row
            })
            .collect();
        Features {
            rows,
            dim: self.idf.len(),
        }
    }
}
