//! A small CSV/TSV reader for previews (host-tested): quoted fields with `""` escapes and
//! newlines inside quotes, `\r\n` or `\n` line ends, and at most a given number of rows.

/// The first `max_rows` records of `text` split on `sep`; the flag says whether more followed.
pub fn parse_csv(text: &str, sep: char, max_rows: usize) -> (Vec<Vec<String>>, bool) {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                any = false;
                if rows.len() == max_rows {
                    return (rows, chars.peek().is_some());
                }
                continue;
            }
            c if c == sep => row.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
        any = true;
    }
    if any || !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    (rows, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_limits() {
        let text = "a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\"multi\nline\",,z\n";
        let (rows, more) = parse_csv(text, ',', 10);
        assert!(!more);
        assert_eq!(
            rows,
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x, \"y\"", "3"],
                vec!["multi\nline", "", "z"],
            ]
        );
        let (rows, more) = parse_csv(text, ',', 2);
        assert_eq!((rows.len(), more), (2, true));
        let (rows, _) = parse_csv("k\tv\nx\t1", '\t', 10);
        assert_eq!(rows, vec![vec!["k", "v"], vec!["x", "1"]]);
        assert!(parse_csv("", ',', 10).0.is_empty());
    }
}
