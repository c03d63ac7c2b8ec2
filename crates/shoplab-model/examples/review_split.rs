//! The training reviews of a fine-tuning run, one JSON object a line (`text`, `target`),
//! so that a reference implementation trains on exactly the same texts
//! (`bash bench/finetune.sh` passes them to bench/finetune_reference.py).
//!
//! Usage: review_split WORKSPACE TASK LIMIT SEED   (TASK: rating or recommend)

use shoplab_model::finetune::{TextField, TextTask, review_split};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ws, task, limit, seed] = args.as_slice() else {
        eprintln!("usage: review_split WORKSPACE TASK LIMIT SEED");
        std::process::exit(2);
    };
    let task = match task.as_str() {
        "rating" => TextTask::Rating,
        "recommend" => TextTask::Recommend,
        other => {
            eprintln!("TASK: rating or recommend, not {other}");
            std::process::exit(2);
        }
    };
    let ws = shoplab_data::workspace::Workspace::open_read_only(ws).expect("a workspace");
    let split = review_split(
        &ws,
        task,
        TextField::Review,
        Some(limit.parse().expect("LIMIT: a number")),
        seed.parse().expect("SEED: a number"),
    )
    .expect("the reviews");
    for (text, target) in split.train.texts.iter().zip(&split.train.targets) {
        println!("{}", serde_json::json!({ "text": text, "target": target }));
    }
}
