//! The protobuf wire format, read by hand: a message is a sequence of (field number, value)
//! pairs. Enough to read the few W&B record types an import needs, without generated code.

/// One field's value as the wire carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Wire<'a> {
    pub fn varint(self) -> Option<u64> {
        match self {
            Wire::Varint(v) => Some(v),
            _ => None,
        }
    }

    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Wire::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A `string` field (invalid UTF-8 is replaced, never fatal).
    pub fn text(self) -> Option<String> {
        self.bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// A `double` field.
    pub fn double(self) -> Option<f64> {
        match self {
            Wire::Fixed64(v) => Some(f64::from_bits(v)),
            _ => None,
        }
    }
}

/// A message that does not follow the wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf message at byte {0}")]
pub struct Malformed(pub usize);

/// The fields of a message, in order.
pub struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

/// Reads the fields of `buf`.
pub fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf, at: 0 }
}

impl Fields<'_> {
    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.at).ok_or(Malformed(self.at))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Malformed(self.at))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(Malformed(self.at))?;
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Wire<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let start = self.at;
        let read = (|| {
            let key = self.varint()?;
            let number = u32::try_from(key >> 3).map_err(|_| Malformed(start))?;
            let value = match key & 7 {
                0 => Wire::Varint(self.varint()?),
                1 => Wire::Fixed64(u64::from_le_bytes(
                    self.take(8)?.try_into().map_err(|_| Malformed(start))?,
                )),
                2 => {
                    let len = usize::try_from(self.varint()?).map_err(|_| Malformed(start))?;
                    let buf: &'a [u8] = self.buf;
                    let end = self.at.checked_add(len).filter(|&e| e <= buf.len());
                    let end = end.ok_or(Malformed(self.at))?;
                    let bytes = &buf[self.at..end];
                    self.at = end;
                    Wire::Bytes(bytes)
                }
                5 => Wire::Fixed32(u32::from_le_bytes(
                    self.take(4)?.try_into().map_err(|_| Malformed(start))?,
                )),
                _ => return Err(Malformed(start)),
            };
            Ok((number, value))
        })();
        if read.is_err() {
            self.at = self.buf.len();
        }
        Some(read)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Encodes a message for tests: each field as (number, value).
    pub fn encode(fields: &[(u32, Wire<'_>)]) -> Vec<u8> {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut out = Vec::new();
        for (number, value) in fields {
            let n = u64::from(*number) << 3;
            match value {
                Wire::Varint(v) => {
                    varint(&mut out, n);
                    varint(&mut out, *v);
                }
                Wire::Fixed64(v) => {
                    varint(&mut out, n | 1);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                Wire::Bytes(b) => {
                    varint(&mut out, n | 2);
                    varint(&mut out, b.len() as u64);
                    out.extend_from_slice(b);
                }
                Wire::Fixed32(v) => {
                    varint(&mut out, n | 5);
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        out
    }

    #[test]
    fn fields_read_back() {
        let inner = encode(&[(1, Wire::Bytes(b"loss"))]);
        let message = encode(&[
            (1, Wire::Varint(300)),
            (200, Wire::Bytes(&inner)),
            (3, Wire::Fixed64(2.5f64.to_bits())),
            (4, Wire::Fixed32(7)),
        ]);
        let read: Vec<(u32, Wire)> = fields(&message).map(Result::unwrap).collect();
        assert_eq!(read.len(), 4);
        assert_eq!(read[0], (1, Wire::Varint(300)));
        assert_eq!(read[1].0, 200);
        assert_eq!(read[1].1.bytes(), Some(&inner[..]));
        assert_eq!(read[2].1.double(), Some(2.5));
        assert_eq!(read[3], (4, Wire::Fixed32(7)));
    }

    #[test]
    fn truncated_messages_are_errors_not_panics() {
        let message = encode(&[(2, Wire::Bytes(b"hello world"))]);
        for cut in 0..message.len() {
            let read: Vec<_> = fields(&message[..cut]).collect();
            if cut > 0 {
                assert!(read.iter().any(Result::is_err), "cut {cut}");
            }
        }
        // A group (wire type 3) is not supported and is an error too.
        assert!(fields(&[0x0b]).next().unwrap().is_err());
    }
}
