//! A software renderer for egui_kittest snapshots: egui's meshes rasterized on the CPU
//! (no GPU, no Vulkan, no wgpu build), deterministic on any machine, so PNG snapshots can
//! be committed and compared in CI.

use std::collections::HashMap;

use egui::epaint::{ClippedPrimitive, Primitive, TextureId, Vertex};
use egui::{Color32, TexturesDelta};
use egui_kittest::TestRenderer;

/// Textures as premultiplied RGBA rows.
struct Texture {
    size: [usize; 2],
    pixels: Vec<Color32>,
}

#[derive(Default)]
pub struct SoftRenderer {
    textures: HashMap<TextureId, Texture>,
}

impl TestRenderer for SoftRenderer {
    fn handle_delta(&mut self, delta: &mut TexturesDelta) {
        for (id, deltas) in &delta.set {
            for d in deltas {
                let egui::ImageData::Color(image) = &d.image;
                match d.pos {
                    None => {
                        self.textures.insert(
                            *id,
                            Texture {
                                size: image.size,
                                pixels: image.pixels.clone(),
                            },
                        );
                    }
                    Some([x0, y0]) => {
                        let Some(t) = self.textures.get_mut(id) else {
                            continue;
                        };
                        for y in 0..image.size[1] {
                            for x in 0..image.size[0] {
                                let (tx, ty) = (x0 + x, y0 + y);
                                if tx < t.size[0] && ty < t.size[1] {
                                    t.pixels[ty * t.size[0] + tx] =
                                        image.pixels[y * image.size[0] + x];
                                }
                            }
                        }
                    }
                }
            }
        }
        for id in &delta.free {
            self.textures.remove(id);
        }
        delta.clear();
    }

    fn render(
        &mut self,
        ctx: &egui::Context,
        output: &egui::FullOutput,
    ) -> Result<image::RgbaImage, String> {
        let ppp = output.pixels_per_point;
        let screen = ctx.content_rect();
        let (w, h) = (
            (screen.width() * ppp).round() as usize,
            (screen.height() * ppp).round() as usize,
        );
        let background = ctx.global_style().visuals.panel_fill;
        let mut frame = vec![[0.0f32; 4]; w * h];
        let bg = rgba(background);
        frame.iter_mut().for_each(|p| *p = bg);
        let primitives = ctx.tessellate(output.shapes.clone(), ppp);
        for ClippedPrimitive {
            clip_rect,
            primitive,
        } in &primitives
        {
            let Primitive::Mesh(mesh) = primitive else {
                continue;
            };
            let Some(texture) = self.textures.get(&mesh.texture_id) else {
                continue;
            };
            let clip = [
                (clip_rect.min.x * ppp).max(0.0),
                (clip_rect.min.y * ppp).max(0.0),
                (clip_rect.max.x * ppp).min(w as f32),
                (clip_rect.max.y * ppp).min(h as f32),
            ];
            for tri in mesh.indices.chunks_exact(3) {
                let v = [
                    &mesh.vertices[tri[0] as usize],
                    &mesh.vertices[tri[1] as usize],
                    &mesh.vertices[tri[2] as usize],
                ];
                raster(&mut frame, w, clip, ppp, v, texture);
            }
        }
        let bytes: Vec<u8> = frame
            .iter()
            .flat_map(|p| p.map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8))
            .collect();
        image::RgbaImage::from_raw(w as u32, h as u32, bytes)
            .ok_or_else(|| "framebuffer size".to_string())
    }
}

fn rgba(c: Color32) -> [f32; 4] {
    c.to_array().map(|v| f32::from(v) / 255.0)
}

/// One triangle, pixel centres inside it, in egui's gamma space with premultiplied alpha
/// (what egui's own renderers blend).
fn raster(
    frame: &mut [[f32; 4]],
    w: usize,
    clip: [f32; 4],
    ppp: f32,
    v: [&Vertex; 3],
    texture: &Texture,
) {
    let p: Vec<[f32; 2]> = v.iter().map(|v| [v.pos.x * ppp, v.pos.y * ppp]).collect();
    let area =
        (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1]);
    if area.abs() < 1e-12 {
        return;
    }
    let min_x = p
        .iter()
        .map(|q| q[0])
        .fold(f32::INFINITY, f32::min)
        .max(clip[0]);
    let max_x = p
        .iter()
        .map(|q| q[0])
        .fold(f32::NEG_INFINITY, f32::max)
        .min(clip[2]);
    let min_y = p
        .iter()
        .map(|q| q[1])
        .fold(f32::INFINITY, f32::min)
        .max(clip[1]);
    let max_y = p
        .iter()
        .map(|q| q[1])
        .fold(f32::NEG_INFINITY, f32::max)
        .min(clip[3]);
    if min_x >= max_x || min_y >= max_y {
        return;
    }
    let colors = v.map(|v| rgba(v.color));
    let [tw, th] = texture.size;
    for y in (min_y.floor() as usize)..(max_y.ceil() as usize) {
        let cy = y as f32 + 0.5;
        if cy < clip[1] || cy >= clip[3] {
            continue;
        }
        for x in (min_x.floor() as usize)..(max_x.ceil() as usize) {
            let cx = x as f32 + 0.5;
            if cx < clip[0] || cx >= clip[2] {
                continue;
            }
            let edge = |a: [f32; 2], b: [f32; 2]| {
                (b[0] - a[0]) * (cy - a[1]) - (cx - a[0]) * (b[1] - a[1])
            };
            let w0 = edge(p[1], p[2]) / area;
            let w1 = edge(p[2], p[0]) / area;
            let w2 = edge(p[0], p[1]) / area;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let u = w0 * v[0].uv.x + w1 * v[1].uv.x + w2 * v[2].uv.x;
            let t = w0 * v[0].uv.y + w1 * v[1].uv.y + w2 * v[2].uv.y;
            let tx = ((u * tw as f32) as usize).min(tw.saturating_sub(1));
            let ty = ((t * th as f32) as usize).min(th.saturating_sub(1));
            let texel = rgba(texture.pixels[ty * tw + tx]);
            let mut src = [0.0f32; 4];
            for c in 0..4 {
                let vc = w0 * colors[0][c] + w1 * colors[1][c] + w2 * colors[2][c];
                src[c] = vc * texel[c];
            }
            let dst = &mut frame[y * w + x];
            for c in 0..4 {
                dst[c] = src[c] + dst[c] * (1.0 - src[3]);
            }
        }
    }
}
