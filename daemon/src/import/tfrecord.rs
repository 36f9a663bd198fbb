//! TFRecord framing, as TensorBoard event files use it: each record is its length (u64 LE), a
//! masked CRC-32C of the length, the data, and a masked CRC-32C of the data. A record whose data
//! checksum fails is skipped and reported; a length whose checksum fails, or a torn tail, ends the
//! file there (nothing after it can be framed), also reported.

use super::wandb_log::Skipped;
use std::io::Read;

/// Records larger than this are not believed (a corrupt length); the file ends there.
const MAX_RECORD: u64 = 256 << 20;

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = crate::util::crc32_table(0x82F6_3B78);
    crate::util::crc32_with(&TABLE, 0, data)
}

/// TFRecord's masked CRC: rotated right by 15 bits plus a constant.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// What reading a TFRecord stream found.
#[derive(Debug, Default)]
pub struct Records {
    pub records: Vec<Vec<u8>>,
    /// Damaged records skipped.
    pub skipped: Vec<Skipped>,
    /// Bytes read up to the end of the last whole record (where to go on from).
    pub consumed: u64,
    /// The cut-off record at the end, if any: damage in a finished file, a record still being
    /// written in a live one.
    pub torn_tail: Option<Skipped>,
}

/// Reads every record of a TFRecord stream, starting at byte `offset` of its file (for reports).
pub fn read_records_at(mut reader: impl Read, offset: u64) -> std::io::Result<Records> {
    let mut out = Records {
        consumed: offset,
        ..Records::default()
    };
    let mut offset = offset;
    let (records, skipped) = (&mut out.records, &mut out.skipped);
    loop {
        let mut header = [0u8; 12];
        let got = read_full(&mut reader, &mut header)?;
        if got == 0 {
            break;
        }
        if got < header.len() {
            out.torn_tail = Some(Skipped {
                offset,
                why: format!("a torn record header at the end ({got} bytes)"),
            });
            break;
        }
        let length_bytes = &header[..8];
        let length = u64::from_le_bytes(length_bytes.try_into().unwrap_or_default());
        let length_crc = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
        if masked_crc32c(length_bytes) != length_crc || length > MAX_RECORD {
            skipped.push(Skipped {
                offset,
                why: "a record length whose checksum does not match (the rest of the file is unreadable)".into(),
            });
            break;
        }
        let mut data = vec![0u8; length as usize + 4];
        let got = read_full(&mut reader, &mut data)?;
        if got < data.len() {
            out.torn_tail = Some(Skipped {
                offset,
                why: "a record cut off at the end of the file".into(),
            });
            break;
        }
        let data_crc = u32::from_le_bytes(data[length as usize..].try_into().unwrap_or_default());
        data.truncate(length as usize);
        if masked_crc32c(&data) == data_crc {
            records.push(data);
        } else {
            skipped.push(Skipped {
                offset,
                why: "a record whose checksum does not match".into(),
            });
        }
        offset += 12 + length + 4;
        out.consumed = offset;
    }
    Ok(out)
}

/// Reads every record of a whole TFRecord stream.
pub fn read_records(reader: impl Read) -> std::io::Result<Records> {
    read_records_at(reader, 0)
}

/// Fills `buf` as far as the stream goes; answers how many bytes it read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Frames `records` as TFRecord.
    pub fn encode(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for record in records {
            let length = (record.len() as u64).to_le_bytes();
            out.extend_from_slice(&length);
            out.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
            out.extend_from_slice(record);
            out.extend_from_slice(&masked_crc32c(record).to_le_bytes());
        }
        out
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn records_round_trip_and_damage_is_contained() {
        let records: Vec<Vec<u8>> = (0..10).map(|i| vec![i as u8; 100 + i]).collect();
        let bytes = encode(&records);
        let all = read_records(&bytes[..]).unwrap();
        assert_eq!(all.records, records);
        assert!(all.skipped.is_empty() && all.torn_tail.is_none());
        assert_eq!(all.consumed, bytes.len() as u64);
        // A flipped data byte loses that record only.
        let mut damaged = bytes.clone();
        damaged[12 + 50] ^= 1;
        let read = read_records(&damaged[..]).unwrap();
        assert_eq!(read.records[..], records[1..]);
        assert_eq!(read.skipped.len(), 1);
        // A torn tail keeps everything before it.
        let torn = read_records(&bytes[..bytes.len() - 7]).unwrap();
        assert_eq!(torn.records[..], records[..9]);
        assert!(torn.skipped.is_empty() && torn.torn_tail.is_some());
        assert_eq!(torn.consumed, (bytes.len() - (12 + 109 + 4)) as u64);
        // A damaged length ends the file.
        let mut damaged = bytes;
        damaged[0] ^= 1;
        let read = read_records(&damaged[..]).unwrap();
        assert!(read.records.is_empty());
        assert_eq!(read.skipped.len(), 1);
    }
}
