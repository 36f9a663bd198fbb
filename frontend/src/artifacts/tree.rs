//! A version's files as a folder tree (host-tested): folders first, then files, each level by
//! name, every folder with the summed size of the files below it; and byte counts for people.

use std::collections::BTreeMap;
use trackline_shared::artifacts::ArtifactFile;

/// One line of the tree, in display order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRow {
    /// The folder's or file's path inside the artifact.
    pub path: String,
    /// Its last segment.
    pub name: String,
    pub depth: usize,
    /// The file's index in the version's `files`; `None` for a folder.
    pub file: Option<usize>,
    /// A file's size, or the sum of the known sizes below a folder.
    pub size: Option<u64>,
    /// Files below a folder (1 for a file).
    pub count: usize,
}

#[derive(Default)]
struct Folder {
    folders: BTreeMap<String, Folder>,
    files: BTreeMap<String, usize>,
}

/// The tree of `files`' paths.
pub fn tree_rows(files: &[ArtifactFile]) -> Vec<TreeRow> {
    let mut root = Folder::default();
    for (i, f) in files.iter().enumerate() {
        let mut parts: Vec<&str> = f.path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut at = &mut root;
        for p in parts {
            at = at.folders.entry(p.to_string()).or_default();
        }
        at.files.insert(name.to_string(), i);
    }
    let mut rows = Vec::new();
    walk(&root, "", 0, files, &mut rows);
    rows
}

/// Adds `folder`'s rows; returns its files' summed size and count.
fn walk(
    folder: &Folder,
    prefix: &str,
    depth: usize,
    files: &[ArtifactFile],
    rows: &mut Vec<TreeRow>,
) -> (u64, usize) {
    let mut total = 0;
    let mut count = 0;
    for (name, sub) in &folder.folders {
        let path = format!("{prefix}{name}");
        let at = rows.len();
        rows.push(TreeRow {
            path: path.clone(),
            name: name.clone(),
            depth,
            file: None,
            size: None,
            count: 0,
        });
        let (size, n) = walk(sub, &format!("{path}/"), depth + 1, files, rows);
        rows[at].size = Some(size);
        rows[at].count = n;
        total += size;
        count += n;
    }
    for (name, &i) in &folder.files {
        let size = files[i].size;
        total += size.unwrap_or(0);
        count += 1;
        rows.push(TreeRow {
            path: format!("{prefix}{name}"),
            name: name.clone(),
            depth,
            file: Some(i),
            size,
            count: 1,
        });
    }
    (total, count)
}

/// `512 B`, `1.5 KiB`, `20.0 MiB`, `3.21 GiB`.
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let digits = if v < 10.0 { 2 } else { 1 };
    format!("{v:.digits$} {}", UNITS[unit])
}

/// `1 file`, `3 files`: a count with its noun (plural by an `s`).
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", crate::util::count(n as usize))
    }
}

/// An optional size: `–` when unknown (a reference).
pub fn fmt_size(n: Option<u64>) -> String {
    n.map_or_else(|| "–".to_string(), fmt_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: Option<u64>) -> ArtifactFile {
        ArtifactFile {
            path: path.into(),
            digest: "d".into(),
            size,
            reference: None,
        }
    }

    #[test]
    fn folders_first_with_summed_sizes() {
        let files = vec![
            file("README.md", Some(10)),
            file("data/train/a.bin", Some(100)),
            file("data/train/b.bin", Some(200)),
            file("data/val.bin", Some(50)),
            file("data/remote", None),
            file("z.txt", Some(1)),
        ];
        let rows = tree_rows(&files);
        let lines: Vec<(usize, &str, Option<u64>, usize)> = rows
            .iter()
            .map(|r| (r.depth, r.path.as_str(), r.size, r.count))
            .collect();
        assert_eq!(
            lines,
            vec![
                (0, "data", Some(350), 4),
                (1, "data/train", Some(300), 2),
                (2, "data/train/a.bin", Some(100), 1),
                (2, "data/train/b.bin", Some(200), 1),
                (1, "data/remote", None, 1),
                (1, "data/val.bin", Some(50), 1),
                (0, "README.md", Some(10), 1),
                (0, "z.txt", Some(1), 1),
            ]
        );
        assert_eq!(rows[2].file, Some(1));
        assert_eq!(rows[0].file, None);
        assert_eq!(rows[2].name, "a.bin");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(fmt_bytes(0), "0 B");
        assert_eq!(fmt_bytes(1023), "1023 B");
        assert_eq!(fmt_bytes(1536), "1.50 KiB");
        assert_eq!(fmt_bytes(20 << 20), "20.0 MiB");
        assert_eq!(fmt_bytes(3 << 30), "3.00 GiB");
        assert_eq!(fmt_size(None), "–");
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(1200, "version"), "1,200 versions");
    }
}
