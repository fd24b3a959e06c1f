//! What the application sends: whole messages, messages in pieces, pings,
//! each checked against the phase and the queue's room and framed (through
//! the negotiated extension where it applies) into the outbound queue.

use super::{Connection, Phase};
use crate::Role;
use crate::error::SendError;
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::{Message, MessageKind};
use crate::prepared::PreparedMessage;
use bytes::Bytes;

impl Connection {
    /// Queues a whole message.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        self.check_can_send()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentOutOfOrder);
        }
        if !self.has_room(message.len()) {
            return Err(SendError::Full(message));
        }
        let opcode = opcode_of(message.kind());
        let transform = self
            .extension
            .as_ref()
            .is_some_and(|e| e.wants(message.len(), true));
        self.push_data(opcode, true, transform, message.into_bytes());
        Ok(())
    }

    /// Queues a message prepared once for many connections (a broadcast):
    /// a server queues the prepared frame by reference, compressed as its
    /// [`crate::deflate::DeflateGroup`] agreed when the message was prepared for it, or
    /// compressing for itself when it was not (or keeps context between
    /// messages). A client masks, so it copies, as [`Connection::send`].
    /// A full queue hands the message back in [`SendError::Full`]: the
    /// caller decides whether to skip this subscriber, close it or wait.
    pub fn send_prepared(&mut self, prepared: &PreparedMessage) -> Result<(), SendError> {
        self.check_can_send()?;
        let message = prepared.message();
        if self.sending.is_some() {
            return Err(SendError::FragmentOutOfOrder);
        }
        if !self.has_room(message.len()) {
            return Err(SendError::Full(message.clone()));
        }
        if self.role == Role::Client {
            return self.send(message.clone());
        }
        let compress = self
            .extension
            .as_ref()
            .is_some_and(|e| e.wants(message.len(), true));
        let encoded = match self.deflate_group() {
            _ if !compress => prepared.plain(),
            Some(group) => match prepared.compressed(group) {
                Some(encoded) => encoded,
                None => return self.send(message.clone()),
            },
            None => return self.send(message.clone()),
        };
        self.out
            .push_encoded(&encoded.frame, encoded.header_len, message.len());
        Ok(())
    }

    /// Queues one piece of a message sent in pieces: the first piece fixes
    /// the kind, later pieces must match it, and `last` ends the message.
    /// A text piece is valid UTF-8 on its own, so the whole message is too.
    pub fn send_fragment(
        &mut self,
        piece: impl Into<Message>,
        last: bool,
    ) -> Result<(), SendError> {
        let piece = piece.into();
        self.check_can_send()?;
        let (opcode, transform) = match self.sending {
            None => {
                let transform = self
                    .extension
                    .as_ref()
                    .is_some_and(|e| e.wants(piece.len(), last));
                (opcode_of(piece.kind()), transform)
            }
            Some((kind, transform)) if kind == piece.kind() => (OpCode::Continuation, transform),
            Some(_) => return Err(SendError::FragmentOutOfOrder),
        };
        if !self.has_room(piece.len()) {
            return Err(SendError::Full(piece));
        }
        self.sending = (!last).then_some((piece.kind(), transform));
        self.push_data(opcode, last, transform, piece.into_bytes());
        Ok(())
    }

    /// Queues a ping with up to 125 bytes of payload.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        self.check_can_send()?;
        let mask = self.mask_key();
        self.out.push_frame(
            OpCode::Ping,
            (true, 0),
            Bytes::copy_from_slice(payload),
            mask,
            None,
        );
        Ok(())
    }

    /// Queues a data frame, through the extension when `transform`.
    pub(super) fn push_data(&mut self, opcode: OpCode, fin: bool, transform: bool, payload: Bytes) {
        let mask = self.mask_key();
        let amount = Some(payload.len());
        match self.extension.as_mut().filter(|_| transform) {
            Some(extension) => {
                let mut out = alloc::vec::Vec::new();
                extension.encode(&payload, fin, &mut out);
                // RSV bits on the first frame of the message only.
                let rsv = if opcode == OpCode::Continuation {
                    0
                } else {
                    extension.rsv()
                };
                self.out
                    .push_frame(opcode, (fin, rsv), out.into(), mask, amount);
            }
            None => self.out.push_frame(opcode, (fin, 0), payload, mask, amount),
        }
    }

    pub(super) fn check_can_send(&self) -> Result<(), SendError> {
        match self.phase {
            Phase::Open => Ok(()),
            Phase::Client(_) | Phase::Server(..) | Phase::Deciding(_) => Err(SendError::NotOpen),
            _ => Err(SendError::Closing),
        }
    }

    pub(super) fn has_room(&self, payload_len: usize) -> bool {
        // The queue's cost counts its bookkeeping too, so a flood of empty
        // messages is bounded like a flood of large ones.
        let cost = self.out.cost().saturating_add(payload_len);
        self.out.is_empty() || cost <= self.config.max_queued
    }

    pub(super) fn mask_key(&mut self) -> Option<[u8; 4]> {
        let entropy = self.entropy.as_mut()?;
        let mut key = [0; 4];
        entropy.fill(&mut key);
        Some(key)
    }
}

fn opcode_of(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}
