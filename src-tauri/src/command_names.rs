/// The app's commands: what `generate_handler!` registers, what the build script declares
/// (it `include!`s this file) and what the capability allows.
pub const COMMANDS: &[&str] = &[
    "open_workspace",
    "choose_workspace",
    "shoppers",
    "shopper_history",
    "category_page",
    "product_page",
    "storefront_slates",
    "compare_runs",
    "price_panel",
    "control_room_start",
    "control_room_stop",
];
