//! `shoplab-workbench [WORKSPACE | --demo]`: the analyst workbench.

fn main() -> eframe::Result {
    let mut args = std::env::args().skip(1);
    let start = match args.next().as_deref() {
        Some("--demo") => shoplab_workbench::Start::Demo,
        Some(path) => shoplab_workbench::Start::Workspace(path.into()),
        None => shoplab_workbench::Start::Remembered,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("ShopLab workbench")
            .with_inner_size([1200.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "shoplab-workbench",
        options,
        Box::new(move |cc| Ok(Box::new(shoplab_workbench::WorkbenchApp::new(cc, start)))),
    )
}
