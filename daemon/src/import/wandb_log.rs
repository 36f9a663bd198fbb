//! W&B's run file (`run-<id>.wandb`): a 7-byte header (`:W&B`, magic `0xBEE1`, version 0) and then
//! LevelDB's log format: 32 KiB blocks of records, each with a CRC-32 of its type byte and data
//! (zlib's CRC, unmasked, as W&B writes it), split into first/middle/last fragments across
//! blocks. Read streaming, block by block; a bad checksum or a torn tail loses only what it covers
//! (the rest of that block), is reported, and reading goes on.

use std::io::Read;

/// Bytes of a block.
const BLOCK: usize = 32 * 1024;
/// Bytes of a fragment's header: CRC-32 (4), length (2), type (1).
const FRAGMENT_HEADER: usize = 7;
/// The file header: `:W&B`, magic 0xBEE1 little-endian, version 0.
const FILE_HEADER: [u8; 7] = [b':', b'W', b'&', b'B', 0xe1, 0xbe, 0];

const FULL: u8 = 1;
const FIRST: u8 = 2;
const MIDDLE: u8 = 3;
const LAST: u8 = 4;

/// Why a file is no W&B run file.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("not a W&B run file (its first bytes are not ':W&B' and the log magic)")]
    NotWandb,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Something skipped while reading, with the file offset where it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub offset: u64,
    pub why: String,
}

/// Records of a W&B run file, in order.
pub struct RecordLog<R> {
    reader: R,
    block: Vec<u8>,
    /// Valid bytes in `block` and the read position in it.
    len: usize,
    at: usize,
    /// File offset of `block[0]`.
    block_offset: u64,
    eof: bool,
    /// A record whose first fragments were read.
    partial: Option<(u64, Vec<u8>)>,
    pub skipped: Vec<Skipped>,
}

impl<R: Read> RecordLog<R> {
    /// Checks the file header and starts reading after it.
    pub fn open(reader: R) -> Result<RecordLog<R>, LogError> {
        let mut log = RecordLog {
            reader,
            block: vec![0; BLOCK],
            len: 0,
            at: 0,
            block_offset: 0,
            eof: false,
            partial: None,
            skipped: Vec::new(),
        };
        log.fill_block()?;
        if log.len < FILE_HEADER.len() || log.block[..FILE_HEADER.len()] != FILE_HEADER {
            return Err(LogError::NotWandb);
        }
        log.at = FILE_HEADER.len();
        Ok(log)
    }

    /// Reads the next block (up to 32 KiB: less only at the end of the file).
    fn fill_block(&mut self) -> std::io::Result<()> {
        self.block_offset += self.len as u64;
        self.len = 0;
        self.at = 0;
        while self.len < BLOCK {
            match self.reader.read(&mut self.block[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn skip(&mut self, offset: u64, why: String) {
        self.skipped.push(Skipped { offset, why });
    }

    /// The next whole record with its file offset; `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        loop {
            if self.len - self.at < FRAGMENT_HEADER {
                let rest = self.len - self.at;
                if self.len < BLOCK {
                    // The last block of the file: what is left is a torn header, or nothing.
                    let here = self.block_offset + self.at as u64;
                    if rest > 0 && self.block[self.at..self.len].iter().any(|&b| b != 0) {
                        self.skip(
                            here,
                            format!("a torn record header at the end ({rest} bytes)"),
                        );
                    }
                    if let Some((start, _)) = self.partial.take() {
                        self.skip(start, "a record cut off at the end of the file".into());
                    }
                    self.at = self.len;
                    return Ok(None);
                }
                self.fill_block()?;
                continue;
            }
            let here = self.block_offset + self.at as u64;
            let header = &self.block[self.at..self.at + FRAGMENT_HEADER];
            let crc = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let length = usize::from(u16::from_le_bytes([header[4], header[5]]));
            let kind = header[6];
            if kind == 0 && length == 0 && crc == 0 {
                // Zero padding (a writer pre-allocated the block): nothing more in it.
                self.at = self.len;
                continue;
            }
            let data_start = self.at + FRAGMENT_HEADER;
            if data_start + length > self.len {
                let why = if self.len < BLOCK {
                    "a torn record at the end of the file"
                } else {
                    "a record longer than its block"
                };
                self.skip(here, why.into());
                self.partial = None;
                self.at = self.len;
                continue;
            }
            let data = self.block[data_start..data_start + length].to_vec();
            let computed = crate::util::crc32_update(crate::util::crc32_update(0, &[kind]), &data);
            if computed != crc {
                self.skip(
                    here,
                    "a record whose checksum does not match (rest of its block skipped)".into(),
                );
                self.partial = None;
                self.at = self.len;
                continue;
            }
            self.at = data_start + length;
            match kind {
                FULL => {
                    if let Some((start, _)) = self.partial.take() {
                        self.skip(start, "a record whose last part is missing".into());
                    }
                    return Ok(Some((here, data)));
                }
                FIRST => {
                    if let Some((start, _)) = self.partial.take() {
                        self.skip(start, "a record whose last part is missing".into());
                    }
                    self.partial = Some((here, data));
                }
                MIDDLE | LAST => {
                    let Some((start, mut bytes)) = self.partial.take() else {
                        self.skip(here, "a record part without its first part".into());
                        continue;
                    };
                    bytes.extend_from_slice(&data);
                    if kind == LAST {
                        return Ok(Some((start, bytes)));
                    }
                    self.partial = Some((start, bytes));
                }
                other => {
                    self.skip(here, format!("a record part of unknown type {other}"));
                    self.partial = None;
                }
            }
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A W&B run file holding `records`, laid out as W&B's writer lays it out.
    pub fn encode(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = FILE_HEADER.to_vec();
        for record in records {
            let mut rest: &[u8] = record;
            let mut first = true;
            loop {
                let room = BLOCK - out.len() % BLOCK;
                if room < FRAGMENT_HEADER {
                    out.extend(std::iter::repeat_n(0, room));
                    continue;
                }
                let take = rest.len().min(room - FRAGMENT_HEADER);
                let last = take == rest.len();
                let kind = match (first, last) {
                    (true, true) => FULL,
                    (true, false) => FIRST,
                    (false, false) => MIDDLE,
                    (false, true) => LAST,
                };
                let crc =
                    crate::util::crc32_update(crate::util::crc32_update(0, &[kind]), &rest[..take]);
                out.extend_from_slice(&crc.to_le_bytes());
                out.extend_from_slice(&(take as u16).to_le_bytes());
                out.push(kind);
                out.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                first = false;
                if last {
                    break;
                }
            }
        }
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Skipped>) {
        let mut log = RecordLog::open(bytes).unwrap();
        let mut out = Vec::new();
        while let Some((_, record)) = log.next_record().unwrap() {
            out.push(record);
        }
        (out, log.skipped)
    }

    #[test]
    fn crc_continues_like_zlib() {
        // zlib.crc32(b"abc", zlib.crc32(b"\x01")) in Python.
        let seeded = crate::util::crc32_update(crate::util::crc32_update(0, &[1]), b"abc");
        assert_eq!(seeded, crate::util::crc32_update(0, b"\x01abc"));
        assert_eq!(crate::util::crc32_update(0, b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_round_trip_across_blocks() {
        let records: Vec<Vec<u8>> = (0..200)
            .map(|i| vec![(i % 251) as u8; (i * 997) % 70_000])
            .collect();
        let (read, skipped) = read_all(&encode(&records));
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(read, records);
    }

    #[test]
    fn a_bad_checksum_loses_only_its_block() {
        let records: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; 3000]).collect();
        let mut bytes = encode(&records);
        // Corrupt a byte inside the 5th record (block 0), whose block holds records 0..=9.
        bytes[7 + 4 * 3007 + 100] ^= 0xff;
        let (read, skipped) = read_all(&bytes);
        assert_eq!(skipped.len(), 2, "{skipped:?}"); // the bad one, and the orphaned tail of record 10
        assert_eq!(read[..4], records[..4]);
        assert!(read.len() >= 28 && read.len() < 40, "{}", read.len());
        assert_eq!(read.last(), records.last());
    }

    #[test]
    fn a_torn_tail_keeps_every_whole_record() {
        let records: Vec<Vec<u8>> = (0..20).map(|i| vec![i as u8; 5000]).collect();
        let bytes = encode(&records);
        for cut in [bytes.len() - 1, bytes.len() - 4000, bytes.len() - 5006] {
            let (read, skipped) = read_all(&bytes[..cut]);
            assert_eq!(read[..], records[..read.len()]);
            assert!(read.len() >= 18, "cut {cut}: {}", read.len());
            assert_eq!(skipped.len(), 1, "cut {cut}: {skipped:?}");
        }
    }

    #[test]
    fn other_files_are_refused() {
        assert!(matches!(
            RecordLog::open(&b"{\"not\": 1}"[..]),
            Err(LogError::NotWandb)
        ));
        assert!(matches!(RecordLog::open(&b""[..]), Err(LogError::NotWandb)));
    }
}
