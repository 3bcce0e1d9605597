//! BSON binaries by subtype. The Data API has two binary forms, `{"$uuid": ...}` and
//! `{"$binary": base64}`, and neither carries a subtype: generic bytes and UUIDs map onto them
//! as they are, every subtype whose number means something else (MD5, encrypted, user-defined,
//! a vector outside the mapped field, ...) is refused by default or written by the job's
//! [`BinarySubtypePolicy`].

use super::encode::Walk;
use super::indexing::IndexState;
use super::json;
use super::violation::{binary_subtype_reason, AdjustmentKind, ViolationKind};
use crate::policy::{BinarySubtypePolicy, LegacyUuidPolicy};
use bson::spec::BinarySubtype;

/// How a binary is written, decided by its subtype alone (and the legacy-UUID policy).
enum BinaryForm {
    /// `{"$uuid": "..."}`: subtype 4, or 3 under a UUID byte order, of 16 bytes.
    Uuid([u8; 16]),
    /// `{"$binary": base64}` with nothing lost: generic (0), old binary (2, the same bytes
    /// without the inner length the BSON reader strips), and the UUID subtypes when they are
    /// not written as `$uuid` (wrong length, or subtype 3 under `LegacyUuidPolicy::AsBinary`).
    Plain,
    /// A subtype with a meaning of its own: [`BinarySubtypePolicy`] decides.
    Special(u8),
}

impl<'c, 'd> Walk<'c, 'd> {
    /// Writes a binary value: its subtype and bytes (as the BSON reader gives them, without
    /// the inner length of subtype 2).
    pub(super) fn binary(&mut self, subtype: BinarySubtype, bytes: &[u8], state: IndexState<'c>) {
        match self.binary_form(subtype, bytes) {
            BinaryForm::Uuid(bytes) => {
                self.open_wrapper(b"{\"$uuid\":", state);
                json::write_uuid(&mut self.out, &bytes);
                self.close_wrapper();
            }
            BinaryForm::Plain => self.plain_binary(bytes, state),
            BinaryForm::Special(subtype) => match self.policy.binary_subtypes {
                BinarySubtypePolicy::Reject => {
                    self.out.extend_from_slice(b"null");
                    let hint = if subtype == 0x09 {
                        "map this field as the collection's vector, or choose a binary-subtype \
                         policy"
                    } else {
                        "choose a binary-subtype policy"
                    };
                    self.violation(
                        ViolationKind::BinarySubtype(subtype),
                        format!(
                            "a {} has no Data API form that keeps its subtype ({hint} to write it \
                             as $binary without the subtype, or as a tagged object that keeps it)",
                            binary_subtype_reason(subtype)
                        ),
                    );
                }
                BinarySubtypePolicy::AsBinary => {
                    self.plain_binary(bytes, state);
                    self.adjust(AdjustmentKind::BinarySubtypeDropped);
                }
                BinarySubtypePolicy::AsTaggedObject => {
                    self.tagged("binary", 3, state);
                    self.out.extend_from_slice(b",\"subtype\":");
                    json::write_i64(&mut self.out, i64::from(subtype));
                    self.out.extend_from_slice(b",\"base64\":");
                    self.path.push(super::encode::Segment::Fixed("base64"));
                    // An ordinary string to the Data API, unlike `$binary`'s.
                    let len = base64::encoded_len(bytes.len(), true).unwrap_or(usize::MAX);
                    self.check_string_bytes(len, state);
                    json::write_base64(&mut self.out, bytes);
                    self.path.pop();
                    self.close_tagged();
                    self.adjust(AdjustmentKind::BinaryAsTaggedObject);
                }
            },
        }
    }

    /// `{"$binary": base64}`; the string is exempt from the string limit, as in the Data API.
    fn plain_binary(&mut self, bytes: &[u8], state: IndexState<'c>) {
        self.open_wrapper(b"{\"$binary\":", state);
        json::write_base64(&mut self.out, bytes);
        self.close_wrapper();
    }

    fn binary_form(&self, subtype: BinarySubtype, bytes: &[u8]) -> BinaryForm {
        if let Some(uuid) = self.uuid_bytes(subtype, bytes) {
            return BinaryForm::Uuid(uuid);
        }
        match subtype {
            BinarySubtype::Generic
            | BinarySubtype::BinaryOld
            | BinarySubtype::Uuid
            | BinarySubtype::UuidOld => BinaryForm::Plain,
            other => BinaryForm::Special(u8::from(other)),
        }
    }

    /// The 16 bytes of a UUID, in standard order, if this binary is written as `$uuid`.
    pub(super) fn uuid_bytes(&self, subtype: BinarySubtype, bytes: &[u8]) -> Option<[u8; 16]> {
        let bytes: [u8; 16] = bytes.try_into().ok()?;
        match subtype {
            BinarySubtype::Uuid => Some(bytes),
            BinarySubtype::UuidOld => match self.policy.legacy_uuids {
                LegacyUuidPolicy::Standard => Some(bytes),
                LegacyUuidPolicy::JavaLegacy => {
                    let mut b = bytes;
                    b[0..8].reverse();
                    b[8..16].reverse();
                    Some(b)
                }
                LegacyUuidPolicy::CSharpLegacy => {
                    let mut b = bytes;
                    b[0..4].reverse();
                    b[4..6].reverse();
                    b[6..8].reverse();
                    Some(b)
                }
                LegacyUuidPolicy::AsBinary => None,
            },
            _ => None,
        }
    }
}
