//! Block order as plain functions (host-tested): where a `block_move` puts a block (the daemon's
//! rule: after block `after`, first for `None`, last when `after` is gone), and which `after` a
//! drop on another block or an up/down button sends.

/// `ids` after moving `block` to just after `after` (`None`: first; an `after` that is not in the
/// list: last). A block that is not in the list changes nothing.
pub fn moved(ids: &[String], block: &str, after: Option<&str>) -> Vec<String> {
    if !ids.iter().any(|i| i == block) {
        return ids.to_vec();
    }
    let mut out: Vec<String> = ids.iter().filter(|i| *i != block).cloned().collect();
    let at = match after {
        None => 0,
        Some(a) => out.iter().position(|i| i == a).map_or(out.len(), |p| p + 1),
    };
    out.insert(at, block.to_string());
    out
}

/// The `after` that puts `dragged` just above (`below` false) or just below `target`, or `None`
/// when the drop changes nothing (dropped on itself or where it already is).
pub fn drop_after(
    ids: &[String],
    dragged: &str,
    target: &str,
    below: bool,
) -> Option<Option<String>> {
    if dragged == target || !ids.iter().any(|i| i == dragged) {
        return None;
    }
    let rest: Vec<&String> = ids.iter().filter(|i| *i != dragged).collect();
    let t = rest.iter().position(|i| *i == target)?;
    let after = if below {
        Some(rest[t].clone())
    } else if t == 0 {
        None
    } else {
        Some(rest[t - 1].clone())
    };
    let changed = moved(ids, dragged, after.as_deref()) != ids;
    changed.then_some(after)
}

/// The `after` that moves `block` one place up, or `None` when it is first.
pub fn move_up(ids: &[String], block: &str) -> Option<Option<String>> {
    let p = ids.iter().position(|i| i == block)?;
    (p > 0).then(|| (p >= 2).then(|| ids[p - 2].clone()))
}

/// The `after` that moves `block` one place down, or `None` when it is last.
pub fn move_down(ids: &[String], block: &str) -> Option<Option<String>> {
    let p = ids.iter().position(|i| i == block)?;
    ids.get(p + 1).map(|next| Some(next.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_move_follows_the_daemons_rule() {
        let l = ids("a b c d");
        assert_eq!(moved(&l, "d", None), ids("d a b c"));
        assert_eq!(moved(&l, "a", Some("c")), ids("b c a d"));
        assert_eq!(moved(&l, "b", Some("gone")), ids("a c d b"));
        assert_eq!(
            moved(&l, "x", Some("a")),
            l,
            "an unknown block changes nothing"
        );
        assert_eq!(
            moved(&l, "c", Some("c")),
            ids("a b d c"),
            "after itself: gone, so last"
        );
    }

    #[test]
    fn drops_and_buttons_name_the_block_before() {
        let l = ids("a b c d");
        assert_eq!(drop_after(&l, "d", "b", false), Some(Some("a".into())));
        assert_eq!(drop_after(&l, "d", "a", false), Some(None));
        assert_eq!(drop_after(&l, "a", "c", true), Some(Some("c".into())));
        assert_eq!(drop_after(&l, "a", "b", false), None, "already there");
        assert_eq!(drop_after(&l, "b", "a", true), None, "already there");
        assert_eq!(drop_after(&l, "b", "b", true), None);
        for (block, below, target) in [("a", true, "d"), ("d", false, "a"), ("c", false, "b")] {
            let after = drop_after(&l, block, target, below).unwrap();
            let out = moved(&l, block, after.as_deref());
            let (pb, pt) = (
                out.iter().position(|i| i == block).unwrap(),
                out.iter().position(|i| i == target).unwrap(),
            );
            assert_eq!(
                pb,
                if below { pt + 1 } else { pt - 1 },
                "{block} {target}: {out:?}"
            );
        }
        assert_eq!(move_up(&l, "a"), None);
        assert_eq!(move_up(&l, "b"), Some(None));
        assert_eq!(move_up(&l, "d"), Some(Some("b".into())));
        assert_eq!(move_down(&l, "d"), None);
        assert_eq!(move_down(&l, "a"), Some(Some("b".into())));
        assert_eq!(moved(&l, "a", Some("b")), ids("b a c d"));
    }
}
