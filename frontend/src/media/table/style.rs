//! The table view's CSS, added to the document's head once (a fixed text, nothing user-written),
//! on the page's colour variables.

const STYLE_ID: &str = "media-table-style";

const CSS: &str = "
.media-table { display: flex; flex-direction: column; min-width: 0; width: 100%; }
.mt-toolbar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; padding: 4px 0 6px; }
.mt-toolbar .spacer { flex: 1; }
.mt-toolbar select { font: inherit; font-size: 12px; padding: 3px 4px; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); color: var(--fg); max-width: 200px; }
.mt-filter { flex: 1 1 320px; min-width: 200px; max-width: 640px; }
.mt-scroll { overflow: auto; position: relative; border: 1px solid var(--border-faint); border-radius: 6px; }
.mt-inner { display: inline-block; min-width: 100%; }
.mt-head { display: flex; position: sticky; top: 0; z-index: 2; background: var(--panel); border-bottom: 1px solid var(--border); }
.mt-th { flex: none; position: relative; display: flex; align-items: center; gap: 4px; padding: 5px 8px; font-weight: 600; font-size: 12px; cursor: pointer; user-select: none; box-sizing: border-box; overflow: hidden; white-space: nowrap; }
.mt-th:hover { background: var(--bg); }
.mt-th-name { overflow: hidden; text-overflow: ellipsis; }
.mt-arrow { color: var(--accent); font-size: 10px; }
.mt-resize { position: absolute; right: 0; top: 0; bottom: 0; width: 6px; cursor: col-resize; }
.mt-resize:hover { background: var(--accent-bg); }
.mt-row { display: flex; border-bottom: 1px solid var(--border-faint); box-sizing: border-box; }
.mt-row:hover { background: var(--bg); }
.mt-group { background: var(--finished-bg); cursor: pointer; font-weight: 600; }
.mt-removed { opacity: 0.6; text-decoration: line-through; }
.mt-cell { flex: none; position: relative; display: flex; align-items: center; gap: 4px; padding: 2px 8px; box-sizing: border-box; overflow: hidden; white-space: nowrap; font-size: 12px; }
.mt-num { justify-content: flex-end; font-variant-numeric: tabular-nums; }
.mt-text { overflow: hidden; text-overflow: ellipsis; }
.mt-changed { background: #fff8c5; }
.mt-change { font-family: var(--mono); font-size: 11px; padding: 0 4px; border-radius: 4px; }
.mt-change-added { background: var(--running-bg); }
.mt-change-removed { background: var(--failed-bg); }
.mt-change-changed { background: #fff8c5; }
.mt-copy { visibility: hidden; position: absolute; right: 2px; top: 2px; font-size: 11px; padding: 0 3px; border: 1px solid var(--border); border-radius: 4px; background: var(--panel); cursor: pointer; }
.mt-cell:hover .mt-copy { visibility: visible; }
.mt-thumb { display: block; max-width: 100%; object-fit: contain; }
.mt-thumb.pixelated { image-rendering: pixelated; }
.mt-media { display: flex; align-items: center; gap: 4px; min-width: 0; }
.mt-audio { height: 28px; max-width: 100%; }
.mt-spark { width: 100%; fill: var(--accent); }
";

/// Adds the view's stylesheet to the page unless it is there.
pub fn ensure() {
    crate::browser::ensure_style(STYLE_ID, CSS);
}
