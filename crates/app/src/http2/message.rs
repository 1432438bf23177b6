//! Turning a decoded field list and a body into the [`http::Message`] HTTP/1 produces, so
//! that everything downstream reads HTTP/2 and HTTP/3 like HTTP/1.

use crate::http::{self, decode, Kind};

use super::Limits;

/// A message being assembled on one stream, one direction.
#[derive(Debug)]
pub(crate) struct Partial {
    msg: http::Message,
    codings: Vec<String>,
}

/// Why a field list could not be a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldsError {
    /// A request without :method, or a response without a valid :status.
    MissingPseudo,
}

impl Partial {
    /// Builds the head from a field section (RFC 9113 8.3, RFC 9114 4.3). Pseudo-header
    /// fields become the start line; `:authority` becomes a `host` field when there is
    /// none, so that [`http::Message::host`] works as for HTTP/1 (RFC 9113 8.3.1).
    pub(crate) fn new(
        fields: Vec<(String, Vec<u8>)>,
        version: u8,
        offset: u64,
    ) -> Result<Self, FieldsError> {
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        let (mut method, mut path, mut status, mut authority) = (None, None, None, None);
        let mut protocol = None;
        let mut headers = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            match name.as_str() {
                ":method" => method = Some(text(&value)),
                ":path" => path = Some(text(&value)),
                ":status" => {
                    status = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|s| s.parse::<u16>().ok())
                }
                ":authority" => authority = Some(value),
                ":protocol" => protocol = Some(text(&value).to_ascii_lowercase()),
                n if n.starts_with(':') => {} // :scheme
                _ => headers.push((name, value)),
            }
        }
        // RFC 8441 4: `:protocol` makes a CONNECT an extended one, opening that protocol.
        let tunnel = protocol.filter(|_| method.as_deref() == Some("CONNECT"));
        let kind = match (method, status) {
            (Some(method), _) => {
                // CONNECT carries no :path; its target is the authority (RFC 9113 8.5).
                let uri =
                    path.unwrap_or_else(|| authority.as_deref().map(text).unwrap_or_default());
                Kind::Request { method, uri }
            }
            (None, Some(status)) => Kind::Response {
                status,
                reason: String::new(),
            },
            (None, None) => return Err(FieldsError::MissingPseudo),
        };
        if let Some(a) = authority {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
                headers.insert(0, ("host".to_owned(), a));
            }
        }
        let codings = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
            .flat_map(|(_, v)| {
                String::from_utf8_lossy(v)
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(Self {
            msg: http::Message {
                kind,
                version,
                headers,
                trailers: Vec::new(),
                body: Vec::new(),
                body_len_wire: 0,
                encodings: Vec::new(),
                body_truncated: false,
                decode_error: None,
                chunked: false,
                incomplete: false,
                offset,
                tunnel,
            },
            codings,
        })
    }

    /// The protocol an extended CONNECT request opens.
    pub(crate) fn tunnel(&self) -> Option<&str> {
        self.msg.tunnel.as_deref()
    }

    /// On a response to an extended CONNECT: a 2xx opens the tunnel (RFC 8441 5, RFC 9220
    /// 3), so its body is the protocol's bytes too.
    pub(crate) fn answer(&mut self, tunnel: Option<&str>) {
        if let (Some(t), Kind::Response { status, .. }) = (tunnel, &self.msg.kind) {
            if (200..300).contains(status) {
                self.msg.tunnel = Some(t.to_string());
            }
        }
    }

    /// Informational (1xx) responses end at their head (RFC 9113 8.1).
    pub(crate) fn is_informational(&self) -> bool {
        matches!(self.msg.kind, Kind::Response { status, .. } if (100..200).contains(&status))
    }

    pub(crate) fn body(&mut self, data: &[u8], limits: &Limits) {
        self.msg.body_len_wire = self.msg.body_len_wire.saturating_add(data.len() as u64);
        let room = limits.max_body.saturating_sub(self.msg.body.len());
        if data.len() > room {
            self.msg.body_truncated = true;
        }
        self.msg
            .body
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
    }

    /// Bytes of the body were lost.
    pub(crate) fn hole(&mut self) {
        self.msg.incomplete = true;
    }

    pub(crate) fn trailers(&mut self, fields: Vec<(String, Vec<u8>)>) {
        self.msg.trailers = fields;
    }

    /// Ends the message: undoes the content codings (with the HTTP/1 decoder) and returns it.
    pub(crate) fn finish(mut self, incomplete: bool, limits: &Limits) -> http::Message {
        let mut m = self.msg;
        m.incomplete |= incomplete;
        if !self.codings.is_empty() && !m.body.is_empty() {
            let raw = std::mem::take(&mut m.body);
            let complete = !m.incomplete && !m.body_truncated;
            let d = decode::decode(raw, &self.codings, limits.max_decoded, complete);
            m.body = d.body;
            m.encodings = d.applied;
            m.decode_error = d.error;
            m.body_truncated |= d.truncated;
        }
        self.codings.clear();
        m
    }
}
