//! A ZIP writer that streams: entries stored (not compressed: checkpoints do not compress), each
//! copied from a reader in fixed-size pieces with its CRC-32 computed on the way and written after
//! it in a data descriptor, so a version of any size is never held in memory. ZIP64 fields are used
//! for an entry of 4 GiB or more, an offset past 4 GiB, or more than 65,535 entries (PKWARE
//! APPNOTE 6.3). The one-shot writer for small exports is `reports::export::zip`.

use std::io::{self, Read, Write};

/// Bytes copied per read.
const PIECE_BYTES: usize = 256 * 1024;
/// The largest value a 32-bit field holds; it (0xFFFFFFFF) marks "see the ZIP64 field".
const MAX32: u64 = 0xFFFF_FFFF;
/// 2026-01-01 00:00 in MS-DOS form: a fixed time keeps the same version byte-identical.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = ((2026 - 1980) << 9) | (1 << 5) | 1;
/// General purpose flags: sizes and CRC in a data descriptor (bit 3), UTF-8 names (bit 11).
const FLAGS: u16 = 0x0808;

/// Writes a stored ZIP archive to `out`, one entry at a time.
#[derive(Debug)]
pub struct ZipWriter<W: Write> {
    out: W,
    /// Bytes written so far (the next local header's offset).
    offset: u64,
    central: Vec<u8>,
    entries: u64,
    /// Every entry as ZIP64 (to test those fields without writing 4 GiB).
    force_zip64: bool,
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> Self {
        ZipWriter {
            out,
            offset: 0,
            central: Vec::new(),
            entries: 0,
            force_zip64: false,
        }
    }

    /// The writer that writes ZIP64 fields for every entry and the end record.
    pub fn with_zip64_always(mut self) -> Self {
        self.force_zip64 = true;
        self
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Adds entry `name` with exactly `size` bytes read from `data`; fewer bytes is an error (the
    /// archive is then unusable and the caller stops).
    pub fn add(&mut self, name: &str, size: u64, data: impl Read) -> io::Result<()> {
        let name_len = u16::try_from(name.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "entry name too long"))?;
        let local_at = self.offset;
        let big = self.force_zip64 || size >= MAX32;
        let far = self.force_zip64 || local_at >= MAX32;
        let needed: u16 = if big || far { 45 } else { 20 };
        // Local header: CRC and sizes come in the data descriptor.
        let mut header = Vec::with_capacity(30 + name.len() + 20);
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&needed.to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&DOS_TIME.to_le_bytes());
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes()); // CRC: in the descriptor
        let local_size: u32 = if big { u32::MAX } else { 0 };
        header.extend_from_slice(&local_size.to_le_bytes());
        header.extend_from_slice(&local_size.to_le_bytes());
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&(if big { 20u16 } else { 0 }).to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        if big {
            header.extend_from_slice(&1u16.to_le_bytes());
            header.extend_from_slice(&16u16.to_le_bytes());
            header.extend_from_slice(&[0; 16]); // sizes: in the descriptor
        }
        self.put(&header)?;
        let crc = self.copy(size, data)?;
        // Data descriptor.
        let mut descriptor = Vec::with_capacity(24);
        descriptor.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        if big {
            descriptor.extend_from_slice(&size.to_le_bytes());
            descriptor.extend_from_slice(&size.to_le_bytes());
        } else {
            descriptor.extend_from_slice(&(size as u32).to_le_bytes());
            descriptor.extend_from_slice(&(size as u32).to_le_bytes());
        }
        self.put(&descriptor)?;
        // Its central directory entry.
        let mut extra = Vec::new();
        if big {
            extra.extend_from_slice(&size.to_le_bytes());
            extra.extend_from_slice(&size.to_le_bytes());
        }
        if far {
            extra.extend_from_slice(&local_at.to_le_bytes());
        }
        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&(0x0300u16 | needed).to_le_bytes()); // made by: Unix
        c.extend_from_slice(&needed.to_le_bytes());
        c.extend_from_slice(&FLAGS.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&DOS_TIME.to_le_bytes());
        c.extend_from_slice(&DOS_DATE.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        let size32 = if big { u32::MAX } else { size as u32 };
        c.extend_from_slice(&size32.to_le_bytes());
        c.extend_from_slice(&size32.to_le_bytes());
        c.extend_from_slice(&name_len.to_le_bytes());
        let extra_len = if extra.is_empty() { 0 } else { extra.len() + 4 };
        c.extend_from_slice(&(extra_len as u16).to_le_bytes());
        c.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
        c.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes()); // a regular file, rw-r--r--
        let offset32 = if far { u32::MAX } else { local_at as u32 };
        c.extend_from_slice(&offset32.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        if !extra.is_empty() {
            c.extend_from_slice(&1u16.to_le_bytes());
            c.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            c.extend_from_slice(&extra);
        }
        self.entries += 1;
        Ok(())
    }

    /// Copies `size` bytes of `data` out, answering their CRC-32.
    fn copy(&mut self, size: u64, mut data: impl Read) -> io::Result<u32> {
        let mut buf = vec![0u8; PIECE_BYTES];
        let (mut left, mut crc) = (size, 0u32);
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let got = data.read(&mut buf[..want])?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("an entry ended {left} bytes early"),
                ));
            }
            crc = crate::util::crc32_update(crc, &buf[..got]);
            self.put(&buf[..got])?;
            left -= got as u64;
        }
        Ok(crc)
    }

    /// Writes the central directory and the end records; answers the output.
    pub fn finish(mut self) -> io::Result<W> {
        let central = std::mem::take(&mut self.central);
        let (central_at, central_len) = (self.offset, central.len() as u64);
        self.put(&central)?;
        let count = self.entries;
        let zip64 =
            self.force_zip64 || count >= 0xFFFF || central_at >= MAX32 || central_len >= MAX32;
        let mut end = Vec::new();
        if zip64 {
            let record_at = self.offset;
            end.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            end.extend_from_slice(&44u64.to_le_bytes()); // the record's size after this field
            end.extend_from_slice(&0x032du16.to_le_bytes());
            end.extend_from_slice(&45u16.to_le_bytes());
            end.extend_from_slice(&[0; 8]); // this disk, the central directory's disk
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&central_len.to_le_bytes());
            end.extend_from_slice(&central_at.to_le_bytes());
            // The locator.
            end.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&record_at.to_le_bytes());
            end.extend_from_slice(&1u32.to_le_bytes());
        }
        let count16 = if zip64 { u16::MAX } else { count as u16 };
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        let len32 = if zip64 { u32::MAX } else { central_len as u32 };
        let at32 = if zip64 { u32::MAX } else { central_at as u32 };
        end.extend_from_slice(&len32.to_le_bytes());
        end.extend_from_slice(&at32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes()); // comment
        self.put(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The exact length of the archive [`ZipWriter`] writes for `entries` (name, size), in order: a
/// stored archive's length is known before a byte is read, so it can be announced.
pub fn archive_len<'a>(entries: impl IntoIterator<Item = (&'a str, u64)>) -> u64 {
    let (mut offset, mut central, mut count) = (0u64, 0u64, 0u64);
    for (name, size) in entries {
        let name = name.len() as u64;
        let big = size >= MAX32;
        let far = offset >= MAX32;
        offset += 30 + name + if big { 20 } else { 0 };
        offset += size + if big { 24 } else { 16 };
        let extra = if big { 16 } else { 0 } + if far { 8 } else { 0 };
        central += 46 + name + if extra > 0 { extra + 4 } else { 0 };
        count += 1;
    }
    let zip64 = count >= 0xFFFF || offset >= MAX32 || central >= MAX32;
    offset + central + if zip64 { 56 + 20 } else { 0 } + 22
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(zip64: bool) -> Vec<u8> {
        let mut writer = ZipWriter::new(Vec::new());
        if zip64 {
            writer = writer.with_zip64_always();
        }
        let big: Vec<u8> = (0..PIECE_BYTES * 2 + 17).map(|i| (i * 7) as u8).collect();
        writer.add("a.txt", 5, &b"hello"[..]).unwrap();
        writer
            .add("dir/big.bin", big.len() as u64, &big[..])
            .unwrap();
        writer.add("empty", 0, &b""[..]).unwrap();
        writer.finish().unwrap()
    }

    /// Python's `zipfile` reads the archive and checks every CRC (`testzip`).
    fn python_reads(zip: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.zip");
        std::fs::write(&path, zip).unwrap();
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(';'.join(f'{i.filename}:{i.file_size}:{len(z.read(i))}' for i in z.infolist()))";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn a_zip_reader_reads_every_entry_with_and_without_zip64() {
        let want = format!(
            "a.txt:5:5;dir/big.bin:{n}:{n};empty:0:0",
            n = PIECE_BYTES * 2 + 17
        );
        assert_eq!(python_reads(&archive(false)), want);
        assert_eq!(python_reads(&archive(true)), want);
    }

    #[test]
    fn the_length_is_known_before_writing() {
        let big = PIECE_BYTES * 2 + 17;
        let entries = [("a.txt", 5), ("dir/big.bin", big as u64), ("empty", 0)];
        assert_eq!(archive_len(entries), archive(false).len() as u64);
        assert_eq!(archive_len([]), 22);
    }

    #[test]
    fn a_short_entry_is_an_error() {
        let mut writer = ZipWriter::new(Vec::new());
        assert!(writer.add("a", 10, &b"abc"[..]).is_err());
    }
}
