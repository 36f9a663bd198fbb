//! A column's distinct texts in one buffer, each interned once: 100k cells cost two
//! allocations that grow, not 100k (allocation was most of a table's parse time, and more so
//! under WASM's allocator).

/// Distinct strings, numbered from 0 in the order first added.
#[derive(Clone, Debug, Default)]
pub struct Texts {
    buf: String,
    /// End of each string in `buf` (its start is the previous end).
    ends: Vec<u32>,
}

impl Texts {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `id` (empty past the end).
    pub fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start as usize..end as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len() as u32).map(|i| self.get(i))
    }
}

/// Builds [`Texts`], finding a string already added by its hash (open addressing).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    texts: Texts,
    /// `id + 1` of the string in each slot, 0 for an empty slot; a power of two long.
    slots: Vec<u32>,
}

impl Interner {
    pub(crate) fn from_texts(texts: Texts) -> Interner {
        let mut me = Interner {
            texts: Texts::default(),
            slots: Vec::new(),
        };
        for s in texts.iter() {
            me.intern(s);
        }
        me
    }

    /// The id of `s`, adding it if new.
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if (self.texts.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = slot_of(s, self.slots.len());
        loop {
            match self.slots[i] {
                0 => {
                    let id = self.texts.len() as u32;
                    self.texts.buf.push_str(s);
                    self.texts.ends.push(self.texts.buf.len() as u32);
                    self.slots[i] = id + 1;
                    return id;
                }
                n if self.texts.get(n - 1) == s => return n - 1,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let mut slots = vec![0u32; size];
        let mask = size - 1;
        for id in 0..self.texts.len() as u32 {
            let mut i = slot_of(self.texts.get(id), size);
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = id + 1;
        }
        self.slots = slots;
    }

    pub(crate) fn finish(self) -> Texts {
        self.texts
    }
}

/// The first slot to look for `s` in, of `size` (a power of two): FxHash's high bits, spread by
/// a Fibonacci multiply (its low bits alone cluster on similar strings).
fn slot_of(s: &str, size: usize) -> usize {
    use std::hash::Hasher;
    let mut h = super::FxHasher(0);
    h.write(s.as_bytes());
    h.write_usize(s.len());
    let spread = h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (spread >> (64 - size.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_an_id_across_growth() {
        let mut i = Interner::default();
        let words: Vec<String> = (0..1000).map(|n| format!("w{}", n % 300)).collect();
        let ids: Vec<u32> = words.iter().map(|w| i.intern(w)).collect();
        assert_eq!(ids[0], ids[300]);
        assert_eq!(ids[299], 299);
        assert_eq!(i.intern(""), 300);
        let t = i.finish();
        assert_eq!(t.len(), 301);
        assert_eq!(t.get(7), "w7");
        assert_eq!(t.get(300), "");
        assert_eq!(t.get(999), "");
        let again = Interner::from_texts(t.clone());
        assert_eq!(
            again.finish().iter().collect::<Vec<_>>(),
            t.iter().collect::<Vec<_>>()
        );
    }
}
