//! Address book exports (`--contacts FILE.vcf`): the contacts a lab seeded, read from the
//! vCard file the phone exported, found in what the device sent.

use crate::util::frame::{self, ACK, PSH, SYN};
use crate::util::{json, phonehome, PcapBuilder};

/// An export as Android's Contacts app writes it (vCard 2.1, quoted-printable UTF-8 with a
/// soft line break, a photo), then a card as iOS writes it (vCard 3.0, grouped, folded).
const EXPORT: &str = "BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9E=97;=E5=BF=97=E8=B1=AA;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9E=97=E5=BF=97=\r\n\
=E8=B1=AA\r\n\
TEL;CELL:0987 654 321\r\n\
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n\
\x20\x20HRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n\
\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
N:Wang;Da-Wei;;;\r\n\
FN:Wang Da-\r\n\
\x20Wei\r\n\
item1.TEL;type=CELL;type=pref:+886 955 123 456\r\n\
item1.X-ABLabel:_$!<Mobile>!$_\r\n\
EMAIL;type=INTERNET:dawei@example.com\r\n\
END:VCARD\r\n";

/// A capture in which the device posts one contact's number (as E.164 in JSON) to a server.
fn upload(dir: &std::path::Path) -> std::path::PathBuf {
    let body =
        "{\"contacts\":[{\"n\":\"x\",\"tel\":\"+886955123456\"}],\"decoy\":\"+886955123457\"}";
    let req = format!(
        "POST /sync HTTP/1.1\r\nHost: contacts.example.net\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (c, s) = ("10.0.0.2", "198.51.100.9");
    PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp(c, 40100, s, 80, 1, 0, SYN, &[]),
        )
        .packet(
            1_700_000_000,
            1,
            &frame::tcp(c, 40100, s, 80, 2, 1, ACK | PSH, req.as_bytes()),
        )
        .write(dir, "upload.pcap")
}

#[test]
fn a_contact_from_a_vcard_export_is_found_without_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("contacts.vcf");
    std::fs::write(&vcf, EXPORT).unwrap();
    let capture = upload(dir.path());
    let out = phonehome(&[
        "audit",
        "--format",
        "json",
        "--contacts",
        vcf.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("contacts.vcf: 2 cards, 2 names and 2 phone numbers"),
        "{stderr}"
    );
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    // Contacts are the cards' numbers in order: the second card's is contacts[1].
    let phones: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["data_type"] == "contact_phone")
        .collect();
    assert_eq!(phones.len(), 1, "{findings:#?}");
    assert_eq!(phones[0]["label"], "contacts[1].phone");
    assert_eq!(phones[0]["server_name"], "contacts.example.net");
    assert_eq!(phones[0]["direction"], "client_to_server");
    // Nothing else matched: the decoy number differs in its last digit, and names were not sent.
    assert_eq!(findings.len(), 1, "{findings:#?}");
    // The report names the export as what was searched for, never its values.
    let run = &report["run"];
    assert!(
        run["profile"].as_str().unwrap().ends_with("contacts.vcf"),
        "{run}"
    );
    assert_eq!(run["profile_sha256"].as_str().unwrap().len(), 64);
    assert!(!report.to_string().contains("955123456"));
}

#[test]
fn a_vcard_export_adds_to_a_profile_and_takes_its_country_code() {
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("contacts.vcf");
    std::fs::write(&vcf, EXPORT).unwrap();
    let profile = dir.path().join("device.toml");
    // Without the device's own number, the Android card's national number has no country.
    let out = phonehome(&["profile", "check", "--contacts", vcf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("contacts.vcf:6: TEL of 林志豪: no country code"),
        "{text}"
    );
    // With it, the export checks clean, and the national number is searched as E.164.
    std::fs::write(&profile, "[identifiers]\nphone = \"+886 912 345 678\"\n").unwrap();
    let args = [
        profile.to_str().unwrap(),
        "--contacts",
        vcf.to_str().unwrap(),
    ];
    let out = phonehome(&[&["profile", "check"][..], &args].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = phonehome(&[&["profile", "variants"][..], &args].concat());
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.contains("contacts[0].phone\te164\tplain\t+886987654321")),
        "{listing}"
    );
    assert!(listing.contains("contacts[1].name"), "{listing}");
}

#[test]
fn a_file_that_is_not_a_vcard_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("device.toml");
    std::fs::write(&bad, "[identifiers]\nimei = \"356938035643809\"\n").unwrap();
    let capture = upload(dir.path());
    let out = phonehome(&[
        "audit",
        "--contacts",
        bad.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("device.toml: no vCard in it (no BEGIN:VCARD line)"),
        "{stderr}"
    );
}
