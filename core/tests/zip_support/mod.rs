//! A zip writer for the extraction tests (stored, deflate and bzip2 entries, zip64 end
//! records, directory entries repeated to make bombs).
#![allow(dead_code)]

use std::io::Write;

#[derive(Clone, Copy, PartialEq)]
pub enum Method {
    Stored,
    Deflate,
    Bzip2,
}

pub fn compress(data: &[u8], method: Method) -> Vec<u8> {
    match method {
        Method::Stored => data.to_vec(),
        Method::Deflate => {
            let mut buf = vec![0u8; data.len() + data.len() / 2 + 1024];
            let mut cfg = zlib_rs::DeflateConfig::new(6);
            cfg.window_bits = -15;
            let (c, _) = zlib_rs::compress_slice(&mut buf, data, cfg);
            c.to_vec()
        }
        Method::Bzip2 => {
            let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
    }
}

/// A zip of `entries` (name, data, method); each entry is listed `copies` times in the central
/// directory (a bomb by repetition when more than 1). Zip64 end records are written when the
/// directory lists more than 65,535 entries.
pub fn zip(entries: &[(&str, &[u8], Method)], copies: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut count = 0usize;
    for (name, data, method) in entries {
        let body = compress(data, *method);
        let code: u16 = match method {
            Method::Stored => 0,
            Method::Deflate => 8,
            Method::Bzip2 => 12,
        };
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\0\0\0");
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // time, date, crc (not checked)
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        for _ in 0..copies {
            central.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0");
            central.extend_from_slice(&code.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
            count += 1;
        }
    }
    let cd_off = out.len();
    out.extend_from_slice(&central);
    if count > 0xFFFF {
        let record = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&(count as u64).to_le_bytes());
        out.extend_from_slice(&(count as u64).to_le_bytes());
        out.extend_from_slice(&(central.len() as u64).to_le_bytes());
        out.extend_from_slice(&(cd_off as u64).to_le_bytes());
        out.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        out.extend_from_slice(&record.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    let short = count.min(0xFFFF) as u16;
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&short.to_le_bytes());
    out.extend_from_slice(&short.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&(cd_off as u32).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
