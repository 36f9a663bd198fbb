//! PNG and CSV export of what a chart shows.

use super::*;

impl ChartHandle {
    pub(super) fn export_png(self) {
        let Some(canvas) = self.canvas.get_untracked() else {
            return;
        };
        if let Ok(url) = canvas.to_data_url() {
            download(&url, &format!("{}.png", file_stem(&self.key.get_value())));
        }
    }

    pub(super) fn export_csv(self) {
        let settings = self.settings();
        let text = self.st.with_value(|st| {
            let refs: Vec<(&str, &SeriesState)> = st
                .data
                .slots
                .iter()
                .map(|s| (s.id.as_str(), &s.data))
                .collect();
            plot::csv(&settings.x_name(), &refs)
        });
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/csv");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
            return;
        };
        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
            download(&url, &format!("{}.csv", file_stem(&self.key.get_value())));
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}

/// A file name from a metric key (`train/loss` → `train_loss`).
pub(super) fn file_stem(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn download(url: &str, name: &str) {
    let doc = document();
    if let Ok(a) = doc.create_element("a")
        && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        a.set_href(url);
        a.set_download(name);
        if let Some(body) = doc.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
}
