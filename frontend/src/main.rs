//! Entry point of the web app: mounts [`trackline_frontend::App`] on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(trackline_frontend::App);
}
