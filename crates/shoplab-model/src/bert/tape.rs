//! The encoder's training pass on the CPU in f32 with its own tape: the forward keeps what
//! each layer's backward reads (its input, the q|k|v projections, the attention's output,
//! the two sums before the layer norms, the intermediate layer before and after GELU), and
//! the backward walks the layers in reverse with the same kernels the graph's operations
//! use, writing every weight's gradient once.
//!
//! Why not candle's graph: its backward pass gives every node a zeroed gradient and adds
//! into it, and a weight's gradient reaches it through a transpose and a reshape, each a
//! pass over the tensor on one thread; in a fine-tuning step of MiniLM those passes and
//! the second core idle around them took about as long as the matrix products
//! (bench/README.md, the encoder's profile).

use std::collections::HashMap;

use candle_core::Tensor;
use rayon::prelude::*;

use super::BertConfig;
use crate::error::{ModelError, Result};
use crate::kernels::slices::{
    CHUNK, Fresh, View, attend, attend_grad, copied, gelu_grad_in_place, gelu_in_place, gemm_add,
    gemm_add_paired, normalize, normalize_grad, product, product_paired, reading_all, zeros,
};

/// The weights' names in the order the pass reads them: the embeddings' five, then each
/// layer's sixteen (see [`Layer::of`]).
pub(crate) fn names(config: &BertConfig, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = [
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
    ]
    .iter()
    .map(|n| format!("{prefix}{n}"))
    .collect();
    for l in 0..config.num_hidden_layers {
        for part in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
            "attention.output.LayerNorm",
            "intermediate.dense",
            "output.dense",
            "output.LayerNorm",
        ] {
            for what in ["weight", "bias"] {
                names.push(format!("{prefix}encoder.layer.{l}.{part}.{what}"));
            }
        }
    }
    names
}

/// Weights before the layers' in [`names`].
const EMBEDDINGS: usize = 5;
/// Weights per layer in [`names`].
const PER_LAYER: usize = 16;

/// A dense layer's weight (`out × inp`, row-major) and bias.
#[derive(Clone, Copy)]
struct Dense<'a> {
    w: &'a [f32],
    b: &'a [f32],
    out: usize,
    inp: usize,
}

impl<'a> Dense<'a> {
    /// Wᵀ, as the right factor of `x·Wᵀ`.
    fn t(self) -> View<'a> {
        View {
            data: self.w,
            rows: self.inp,
            cols: self.out,
            ld: self.inp,
            trans: true,
        }
    }

    /// W, as the right factor of `dy·W`.
    fn plain(self) -> View<'a> {
        View::rows(self.w, self.out, self.inp)
    }
}

/// One layer's weights.
struct Layer<'a> {
    qkv: [Dense<'a>; 3],
    out: Dense<'a>,
    norm1: (&'a [f32], &'a [f32]),
    up: Dense<'a>,
    down: Dense<'a>,
    norm2: (&'a [f32], &'a [f32]),
}

impl<'a> Layer<'a> {
    /// Layer `l`'s weights among `w` (ordered as [`names`]).
    fn of(w: &[&'a [f32]], l: usize, c: &BertConfig) -> Self {
        let at = EMBEDDINGS + l * PER_LAYER;
        let w = &w[at..at + PER_LAYER];
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let dense = |k: usize, out, inp| Dense {
            w: w[k],
            b: w[k + 1],
            out,
            inp,
        };
        Layer {
            qkv: [dense(0, h, h), dense(2, h, h), dense(4, h, h)],
            out: dense(6, h, h),
            norm1: (w[8], w[9]),
            up: dense(10, i, h),
            down: dense(12, h, i),
            norm2: (w[14], w[15]),
        }
    }
}

/// What one layer's backward reads.
struct Saved {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    s1: Vec<f32>,
    h1: Vec<f32>,
    z: Vec<f32>,
    g: Vec<f32>,
    s2: Vec<f32>,
}

/// A training forward's inputs and what its backward reads.
pub(crate) struct Tape {
    ids: Vec<u32>,
    types: Vec<u32>,
    /// Tokens per sequence (padded), and each sequence's own.
    len: usize,
    lens: Vec<usize>,
    /// The embeddings' sum before their layer norm.
    emb: Vec<f32>,
    layers: Vec<Saved>,
}

/// The pass over a model's weights.
pub(crate) struct Pass<'a> {
    config: &'a BertConfig,
    /// The weights' names, as [`names`] lists them.
    pub names: Vec<String>,
    weights: &'a HashMap<String, Tensor>,
}

impl<'a> Pass<'a> {
    pub(crate) fn new(config: &'a BertConfig, weights: &'a HashMap<String, Tensor>) -> Self {
        Pass {
            config,
            names: names(config, super::prefix(weights)),
            weights,
        }
    }

    fn with_weights<R>(&self, f: impl FnOnce(&[&[f32]]) -> Result<R>) -> Result<R> {
        let ts = self
            .names
            .iter()
            .map(|n| {
                self.weights.get(n).ok_or_else(|| ModelError::Config {
                    model: "bert".into(),
                    message: format!("the weights have no tensor \"{n}\""),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        reading_all(&ts, "bert-tape", f)?
    }

    /// Token states (`n·len × hidden`) of `n` sequences of `len` padded tokens (`ids`,
    /// `types`, row-major), sequence `s` attending over its first `lens[s]`; and the tape.
    pub(crate) fn forward(
        &self,
        ids: Vec<u32>,
        types: Vec<u32>,
        lens: Vec<usize>,
    ) -> Result<(Vec<f32>, Tape)> {
        let mut layers = Vec::with_capacity(self.config.num_hidden_layers);
        let (h, emb) = self.run(&ids, &types, &lens, Some(&mut layers))?;
        let len = ids.len() / lens.len().max(1);
        let tape = Tape {
            ids,
            types,
            len,
            lens,
            emb,
            layers,
        };
        Ok((h, tape))
    }

    /// The token states alone, as [`Pass::forward`] gives them, keeping nothing for a
    /// backward: the inference pass.
    pub(crate) fn states(&self, ids: &[u32], types: &[u32], lens: &[usize]) -> Result<Vec<f32>> {
        Ok(self.run(ids, types, lens, None)?.0)
    }

    /// The forward: the token states and the embeddings' sum; each layer's [`Saved`] pushed
    /// onto `saved` when given.
    fn run(
        &self,
        ids: &[u32],
        types: &[u32],
        lens: &[usize],
        mut saved: Option<&mut Vec<Saved>>,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let c = self.config;
        let hidden = c.hidden_size;
        let eps = c.layer_norm_eps as f32;
        let len = ids.len() / lens.len().max(1);
        let rows = ids.len();
        self.with_weights(|w| {
            let (words, positions, kinds) = (w[0], w[1], w[2]);
            let mut emb = Vec::with_capacity(rows * hidden);
            for r in 0..rows {
                let (a, b, t) = (
                    table_row(words, ids[r] as usize, hidden)?,
                    table_row(positions, r % len, hidden)?,
                    table_row(kinds, types[r] as usize, hidden)?,
                );
                emb.extend((0..hidden).map(|k| a[k] + b[k] + t[k]));
            }
            let mut h = normalize(&emb, w[3], w[4], eps);
            for l in 0..c.num_hidden_layers {
                let p = Layer::of(w, l, c);
                let x = h;
                let xs = View::rows(&x, rows, hidden);
                let mut qkv = Fresh::new(rows, 3 * hidden);
                for (part, d) in p.qkv.iter().enumerate() {
                    qkv.product(part * hidden, xs, d.t(), 1.0, Some(d.b));
                }
                let qkv = qkv.done();
                let ctx = attend(&qkv, lens, c.num_attention_heads, hidden);
                let s1 = onto(&x, &ctx, p.out);
                let h1 = normalize(&s1, p.norm1.0, p.norm1.1, eps);
                let z = dense(&h1, p.up);
                // The backward reads the layer before GELU too; inference applies it in place.
                let (z, mut g) = match saved {
                    Some(_) => {
                        let g = copied(&z);
                        (z, g)
                    }
                    None => (Vec::new(), z),
                };
                g.par_chunks_mut(CHUNK).for_each(gelu_in_place);
                let s2 = onto(&h1, &g, p.down);
                h = normalize(&s2, p.norm2.0, p.norm2.1, eps);
                if let Some(saved) = saved.as_deref_mut() {
                    saved.push(Saved {
                        x,
                        qkv,
                        ctx,
                        s1,
                        h1,
                        z,
                        g,
                        s2,
                    });
                }
            }
            Ok((h, emb))
        })
    }

    /// The gradients of the weights (in [`names`]' order) from the states' gradient `dh`.
    pub(crate) fn backward(&self, tape: &Tape, dh: &[f32]) -> Result<Vec<Vec<f32>>> {
        let c = self.config;
        let (hidden, inter, heads) = (c.hidden_size, c.intermediate_size, c.num_attention_heads);
        let eps = c.layer_norm_eps as f32;
        let rows = tape.ids.len();
        self.with_weights(|w| {
            let mut grads: Vec<Vec<f32>> = vec![Vec::new(); w.len()];
            let mut dh = copied(dh);
            for (l, s) in tape.layers.iter().enumerate().rev() {
                let p = Layer::of(w, l, c);
                let at = EMBEDDINGS + l * PER_LAYER;
                let mut put = |k: usize, g: Vec<f32>| grads[at + k] = g;
                // Each dense layer's weight and bias gradients are computed beside the
                // gradient of its input: two products of equal size, one per thread.
                // h = norm2(s2), s2 = h1 + gelu(z)·W_downᵀ + b_down
                let (ds2, d) = normalize_grad(&s.s2, p.norm2.0, &dh, eps);
                put(14, d[..hidden].to_vec());
                put(15, d[hidden..].to_vec());
                let ((dw, db), mut dz) = rayon::join(
                    || param_grads(View::rows(&ds2, rows, hidden), &s.g, inter),
                    || input_grad(&ds2, rows, p.down),
                );
                put(12, dw);
                put(13, db);
                dz.par_chunks_mut(CHUNK)
                    .zip(s.z.par_chunks(CHUNK))
                    .for_each(|(d, z)| gelu_grad_in_place(z, d));
                // z = h1·W_upᵀ + b_up; h1 also reaches s2 directly.
                let mut dh1 = ds2;
                let dzv = View::rows(&dz, rows, inter);
                let ((dw, db), ()) = rayon::join(
                    || param_grads(dzv, &s.h1, hidden),
                    || gemm_add_paired(dzv, p.up.plain(), 1.0, &mut dh1, hidden),
                );
                put(10, dw);
                put(11, db);
                // h1 = norm1(s1), s1 = x + ctx·W_outᵀ + b_out
                let (ds1, d) = normalize_grad(&s.s1, p.norm1.0, &dh1, eps);
                put(8, d[..hidden].to_vec());
                put(9, d[hidden..].to_vec());
                let ((dw, db), dctx) = rayon::join(
                    || param_grads(View::rows(&ds1, rows, hidden), &s.ctx, hidden),
                    || input_grad(&ds1, rows, p.out),
                );
                put(6, dw);
                put(7, db);
                let dqkv = attend_grad(&s.qkv, &dctx, &tape.lens, heads, hidden);
                // q|k|v = x·W_partᵀ + b_part; x also reaches s1 directly.
                let mut dx = ds1;
                let blocks = [0, 1, 2].map(|part| View {
                    data: &dqkv[part * hidden..],
                    rows,
                    cols: hidden,
                    ld: 3 * hidden,
                    trans: false,
                });
                let (qkv_grads, ()) = rayon::join(
                    || blocks.map(|block| param_grads(block, &s.x, hidden)),
                    || {
                        for (block, d) in blocks.iter().zip(&p.qkv) {
                            gemm_add_paired(*block, d.plain(), 1.0, &mut dx, hidden);
                        }
                    },
                );
                for (part, (dw, db)) in qkv_grads.into_iter().enumerate() {
                    put(2 * part, dw);
                    put(2 * part + 1, db);
                }
                dh = dx;
            }
            // h0 = norm(words[id] + positions[r mod len] + kinds[type])
            let (demb, d) = normalize_grad(&tape.emb, w[3], &dh, eps);
            grads[3] = d[..hidden].to_vec();
            grads[4] = d[hidden..].to_vec();
            let scatter = |table: &[f32], at: &dyn Fn(usize) -> usize| {
                let mut g = zeros(table.len());
                for (r, d) in demb.chunks(hidden).enumerate() {
                    let k = at(r) * hidden;
                    g[k..k + hidden]
                        .iter_mut()
                        .zip(d)
                        .for_each(|(g, d)| *g += d);
                }
                g
            };
            grads[0] = scatter(w[0], &|r| tape.ids[r] as usize);
            grads[1] = scatter(w[1], &|r| r % tape.len);
            grads[2] = scatter(w[2], &|r| tape.types[r] as usize);
            Ok(grads)
        })
    }
}

/// Row `k` (`width` values) of an embedding table.
fn table_row(table: &[f32], k: usize, width: usize) -> Result<&[f32]> {
    table
        .get(k * width..(k + 1) * width)
        .ok_or_else(|| ModelError::Config {
            model: "bert".into(),
            message: format!("token or position {k} past the embeddings"),
        })
}

/// `x·Wᵀ + b` over the rows of `x` (`… × inp`).
fn dense(x: &[f32], d: Dense) -> Vec<f32> {
    product(View::rows(x, x.len() / d.inp, d.inp), d.t(), 1.0, Some(d.b))
}

/// `r + x·Wᵀ + b`: a dense layer's output added to the residual `r`.
fn onto(r: &[f32], x: &[f32], d: Dense) -> Vec<f32> {
    let mut y = copied(r);
    y.par_chunks_mut(d.out * 64).for_each(|rows| {
        for row in rows.chunks_mut(d.out) {
            row.iter_mut().zip(d.b).for_each(|(y, b)| *y += b);
        }
    });
    let rows = x.len() / d.inp;
    gemm_add(View::rows(x, rows, d.inp), d.t(), 1.0, &mut y, d.out);
    y
}

/// `dy·W` (`rows × inp`): the gradient of a dense layer's input from its output's `dy`,
/// computed beside [`param_grads`].
fn input_grad(dy: &[f32], rows: usize, d: Dense) -> Vec<f32> {
    product_paired(View::rows(dy, rows, d.out), d.plain(), 1.0)
}

/// A dense layer's weight gradient `dyᵀ·x` (`out × inp`) and bias gradient (the column
/// sums of `dy`) from its output's gradient `dy` (`rows × out`, possibly a block of a wider
/// matrix) and its input `x` (`rows × inp`), computed beside [`input_grad`].
fn param_grads(dy: View, x: &[f32], inp: usize) -> (Vec<f32>, Vec<f32>) {
    let dyt = View {
        rows: dy.cols,
        cols: dy.rows,
        trans: true,
        ..dy
    };
    let w = product_paired(dyt, View::rows(x, dy.rows, inp), 1.0);
    let mut b = vec![0f32; dy.cols];
    for r in 0..dy.rows {
        let row = &dy.data[r * dy.ld..r * dy.ld + dy.cols];
        b.iter_mut().zip(row).for_each(|(s, x)| *s += x);
    }
    (w, b)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::{DType, Device, Tensor, Var};

    use super::{Pass, names};
    use crate::bert::{Bert, BertConfig};

    /// A two-layer BERT of random weights (hidden 16, 2 heads), named as a checkpoint.
    fn model() -> (BertConfig, Vec<String>, HashMap<String, Var>) {
        let c = BertConfig {
            vocab_size: 30,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 24,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-12,
            max_position_embeddings: 12,
            type_vocab_size: 2,
        };
        let names = names(&c, "");
        let d = Device::Cpu;
        let vars = names
            .iter()
            .map(|n| {
                let (h, i) = (c.hidden_size, c.intermediate_size);
                let shape: Vec<usize> = match n.rsplit('.').nth(1).unwrap_or("") {
                    "word_embeddings" => vec![c.vocab_size, h],
                    "position_embeddings" => vec![c.max_position_embeddings, h],
                    "token_type_embeddings" => vec![c.type_vocab_size, h],
                    "LayerNorm" => vec![h],
                    _ if n.contains("intermediate") && n.ends_with("weight") => vec![i, h],
                    _ if n.contains("intermediate") => vec![i],
                    _ if n.contains("output.dense") && !n.contains("attention") => {
                        if n.ends_with("weight") {
                            vec![h, i]
                        } else {
                            vec![h]
                        }
                    }
                    _ if n.ends_with("weight") => vec![h, h],
                    _ => vec![h],
                };
                let mean = if n.contains("LayerNorm.weight") {
                    1.0
                } else {
                    0.0
                };
                (n.clone(), Var::randn(mean, 0.3f32, shape, &d).unwrap())
            })
            .collect();
        (c, names, vars)
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn the_tape_gives_the_graphs_states_and_gradients() {
        let (c, names, vars) = model();
        let d = Device::Cpu;
        let (n, len, lens) = (3, 7, vec![7usize, 4, 1]);
        let ids: Vec<u32> = (0..n * len).map(|k| (k * 7 % 30) as u32).collect();
        let types: Vec<u32> = (0..n * len).map(|k| (k % 2) as u32).collect();
        let mask: Vec<u32> = (0..n * len)
            .map(|k| u32::from(k % len < lens[k / len]))
            .collect();
        let weights: HashMap<String, Tensor> = vars
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        let bert = Bert {
            config: &c,
            weights: &weights,
            adapters: &HashMap::new(),
            dtype: DType::F32,
            train: true,
        };
        let t = |v: &[u32]| Tensor::from_vec(v.to_vec(), (n, len), &d).unwrap();
        let states = bert.forward(&t(&ids), &t(&types), &t(&mask)).unwrap();
        // A loss weighing every state differently.
        let r = Tensor::randn(0f32, 1.0, (n, len, c.hidden_size), &d).unwrap();
        let g = (&states * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();

        let pass = Pass::new(&c, &weights);
        assert_eq!(pass.names, names);
        let (h, tape) = pass.forward(ids, types, lens).unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(max_diff(&h, &flat(&states)) < 1e-5);
        let grads = pass.backward(&tape, &flat(&r)).unwrap();
        for (name, ours) in names.iter().zip(&grads) {
            let theirs = flat(g.get(vars[name].as_tensor()).expect("a gradient"));
            let scale = theirs.iter().fold(1f32, |m, x| m.max(x.abs()));
            assert!(
                max_diff(ours, &theirs) < 1e-4 * scale,
                "{name}: {}",
                max_diff(ours, &theirs)
            );
        }
    }
}
