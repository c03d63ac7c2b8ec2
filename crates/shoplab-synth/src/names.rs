//! Word lists: category templates, brand syllables, description phrases.

/// A category template: REES46-style code, the noun used in titles, a typical
/// price level and per-category variants/features for titles and descriptions.
pub(crate) struct Template {
    pub code: &'static str,
    pub noun: &'static str,
    pub median_price: f64,
    pub variants: &'static [&'static str],
    pub features: &'static [&'static str],
}

pub(crate) const TEMPLATES: &[Template] = &[
    Template {
        code: "electronics.smartphone",
        noun: "Phone",
        median_price: 250.0,
        variants: &["64GB", "128GB", "256GB", "512GB"],
        features: &[
            "a bright OLED display",
            "all-day battery life",
            "a triple camera",
        ],
    },
    Template {
        code: "computers.notebook",
        noun: "Notebook",
        median_price: 700.0,
        variants: &["13.3\"", "14\"", "15.6\"", "17.3\""],
        features: &["a backlit keyboard", "a fast SSD", "a full HD screen"],
    },
    Template {
        code: "electronics.audio.headphone",
        noun: "Headphones",
        median_price: 60.0,
        variants: &["Wired", "Wireless", "Noise Cancelling"],
        features: &["deep bass", "soft ear cushions", "a built-in microphone"],
    },
    Template {
        code: "appliances.kitchen.refrigerators",
        noun: "Refrigerator",
        median_price: 520.0,
        variants: &["White", "Silver", "No Frost"],
        features: &[
            "an A++ energy rating",
            "a spacious freezer",
            "quiet operation",
        ],
    },
    Template {
        code: "appliances.environment.vacuum",
        noun: "Vacuum Cleaner",
        median_price: 120.0,
        variants: &["Bagless", "Cordless", "Robot"],
        features: &["strong suction", "a HEPA filter", "a long-life battery"],
    },
    Template {
        code: "electronics.video.tv",
        noun: "TV",
        median_price: 450.0,
        variants: &["43\"", "50\"", "55\"", "65\""],
        features: &["4K resolution", "smart apps", "HDR support"],
    },
    Template {
        code: "apparel.shoes",
        noun: "Sneakers",
        median_price: 70.0,
        variants: &["Black", "White", "Red", "Navy"],
        features: &[
            "a breathable mesh upper",
            "a cushioned sole",
            "reflective details",
        ],
    },
    Template {
        code: "furniture.living_room.sofa",
        noun: "Sofa",
        median_price: 400.0,
        variants: &["Grey", "Beige", "Corner"],
        features: &[
            "removable covers",
            "a solid wood frame",
            "memory foam cushions",
        ],
    },
    Template {
        code: "kids.toys",
        noun: "Building Set",
        median_price: 25.0,
        variants: &["Starter", "Deluxe", "XL"],
        features: &[
            "colorful bricks",
            "step-by-step instructions",
            "a storage box",
        ],
    },
    Template {
        code: "sport.bicycle",
        noun: "Bicycle",
        median_price: 350.0,
        variants: &["26\"", "28\"", "29\""],
        features: &["21 gears", "disc brakes", "an aluminium frame"],
    },
    Template {
        code: "construction.tools.drill",
        noun: "Drill",
        median_price: 90.0,
        variants: &["12V", "18V", "Brushless"],
        features: &["two batteries", "a keyless chuck", "an LED work light"],
    },
    Template {
        code: "appliances.kitchen.washer",
        noun: "Washing Machine",
        median_price: 380.0,
        variants: &["6kg", "8kg", "10kg"],
        features: &["a steam program", "an inverter motor", "a quick wash cycle"],
    },
    Template {
        code: "computers.desktop",
        noun: "Desktop PC",
        median_price: 800.0,
        variants: &["8GB", "16GB", "32GB"],
        features: &[
            "a discrete graphics card",
            "plenty of USB ports",
            "a quiet cooler",
        ],
    },
    Template {
        code: "electronics.clocks",
        noun: "Smartwatch",
        median_price: 150.0,
        variants: &["40mm", "44mm", "46mm"],
        features: &["heart-rate tracking", "GPS", "a week of battery life"],
    },
    Template {
        code: "accessories.bag",
        noun: "Backpack",
        median_price: 45.0,
        variants: &["20L", "30L", "Travel"],
        features: &[
            "a padded laptop sleeve",
            "water-resistant fabric",
            "many pockets",
        ],
    },
    Template {
        code: "appliances.kitchen.kettle",
        noun: "Kettle",
        median_price: 30.0,
        variants: &["1.5L", "1.7L", "Glass"],
        features: &["rapid boil", "auto shut-off", "a limescale filter"],
    },
    Template {
        code: "auto.accessories.player",
        noun: "Car Stereo",
        median_price: 80.0,
        variants: &["1-DIN", "2-DIN", "Bluetooth"],
        features: &["hands-free calling", "a USB input", "an FM tuner"],
    },
    Template {
        code: "country_yard.lawn_mower",
        noun: "Lawn Mower",
        median_price: 220.0,
        variants: &["Electric", "Petrol", "Cordless"],
        features: &["a wide cutting deck", "a grass box", "adjustable height"],
    },
    Template {
        code: "stationery.cartrige",
        noun: "Printer Cartridge",
        median_price: 20.0,
        variants: &["Black", "Color", "XL"],
        features: &["high page yield", "sharp text", "easy installation"],
    },
    Template {
        code: "medicine.tools.tonometer",
        noun: "Blood Pressure Monitor",
        median_price: 40.0,
        variants: &["Arm", "Wrist"],
        features: &[
            "a large display",
            "a memory for two users",
            "irregular heartbeat detection",
        ],
    },
    Template {
        code: "electronics.tablet",
        noun: "Tablet",
        median_price: 300.0,
        variants: &["32GB", "64GB", "128GB", "LTE"],
        features: &["a stylus", "stereo speakers", "a 10-inch screen"],
    },
    Template {
        code: "appliances.personal.hair_cutter",
        noun: "Hair Clipper",
        median_price: 35.0,
        variants: &["Corded", "Cordless", "Pro"],
        features: &[
            "self-sharpening blades",
            "eight guide combs",
            "a washable head",
        ],
    },
];

pub(crate) const ADJECTIVES: &[&str] = &[
    "Compact",
    "Premium",
    "Lightweight",
    "Durable",
    "Stylish",
    "Powerful",
    "Classic",
    "Versatile",
    "Ergonomic",
    "Reliable",
];

pub(crate) const USES: &[&str] = &[
    "ideal for everyday use",
    "perfect for families",
    "built for professionals",
    "great value for the price",
    "designed for comfort",
    "made to last",
];

pub(crate) const MODEL_LETTERS: &[&str] = &["X", "S", "A", "M", "Z", "K", "T", "N", "R", "Pro "];

const BRAND_PREFIXES: &[&str] = &[
    "ac", "zen", "vol", "tri", "nor", "kel", "bri", "mar", "sol", "dex", "lum", "pol", "ver",
    "qua", "rad", "sky", "ori", "tex",
];

const BRAND_SUFFIXES: &[&str] = &[
    "me", "tro", "ix", "on", "ora", "ex", "ia", "co", "wave", "tek", "line", "ar",
];

/// All syllable combinations (216), in a fixed order; callers shuffle.
pub(crate) fn brand_stems() -> Vec<String> {
    let mut v = Vec::with_capacity(BRAND_PREFIXES.len() * BRAND_SUFFIXES.len());
    for p in BRAND_PREFIXES {
        for s in BRAND_SUFFIXES {
            v.push(format!("{p}{s}"));
        }
    }
    v
}

/// "acme" -> "Acme".
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
