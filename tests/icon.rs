//! The window icon shipped in assets/ decodes (a broken icon would silently leave the default).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

#[test]
fn window_icon_decodes_at_256_px() {
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../assets/icon-256.png"))
        .expect("PNG decodes");
    assert_eq!((icon.width, icon.height), (256, 256));
    assert_eq!(icon.rgba.len(), 256 * 256 * 4);
}
