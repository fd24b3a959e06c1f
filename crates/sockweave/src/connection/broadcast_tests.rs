//! Prepared messages (broadcast): one frame for many connections, shared
//! by reference, compressed once per group, with each subscriber's queue
//! still bounded.

use super::test_support::*;
use super::*;
use crate::handshake::ClientRequest;
use crate::message::Message;
use crate::prepared::PreparedMessage;
use alloc::vec;
use alloc::vec::Vec;

/// A client and a server, handshake done.
fn pair(client: Config, server: Config) -> (Connection, Connection) {
    let request = ClientRequest::new("ws://h/").unwrap();
    let mut c = Connection::client(&request, client, |b: &mut [u8]| b.fill(9), T0).unwrap();
    let mut s = Connection::server(ServerPolicy::default(), server, T0).unwrap();
    assert!(matches!(
        deliver(&mut s, &wire(&mut c))[..],
        [Event::Open(_)]
    ));
    assert!(matches!(
        deliver(&mut c, &wire(&mut s))[..],
        [Event::Open(_)]
    ));
    (c, s)
}

fn big() -> Message {
    Message::Binary(Bytes::from(vec![7u8; 10_000]))
}

#[test]
fn servers_queue_the_same_bytes_by_reference() {
    let prepared = PreparedMessage::new(big());
    let mut servers: Vec<Connection> = (0..3)
        .map(|_| Connection::established_server(Config::default(), T0).unwrap())
        .collect();
    let mut frames = Vec::new();
    for server in &mut servers {
        server.send_prepared(&prepared).unwrap();
        assert_eq!(server.buffered_amount(), 10_000);
        let chunks: Vec<&[u8]> = server.transmit().collect();
        assert_eq!(chunks.len(), 1, "one shared frame");
        frames.push(chunks[0].as_ptr());
    }
    assert!(
        frames.windows(2).all(|w| w[0] == w[1]),
        "no copy per connection"
    );
    // The bytes are what `send` writes.
    let mut reference = Connection::established_server(Config::default(), T0).unwrap();
    reference.send(big()).unwrap();
    let expected = wire(&mut reference);
    for server in &mut servers {
        assert_eq!(wire(server), expected);
        assert_eq!(server.buffered_amount(), 0);
    }
    // A small message to an idle connection is shared too (no copy, no
    // allocation); behind other small frames it is copied into the tail
    // to leave in the same write.
    let small = PreparedMessage::new("hi");
    let server = &mut servers[0];
    server.send_prepared(&small).unwrap();
    assert_eq!(server.transmit().count(), 1);
    server.ping(b"p").unwrap();
    server.send_prepared(&small).unwrap();
    assert_eq!(
        server.transmit().count(),
        2,
        "the shared frame, then the tail"
    );
    assert_eq!(wire(server), b"\x81\x02hi\x89\x01p\x81\x02hi");
}

#[test]
fn a_full_subscriber_gets_the_message_back_and_the_caller_decides() {
    let config = Config {
        max_queued: 15_000,
        ..Config::default()
    };
    let mut slow = Connection::established_server(config, T0).unwrap();
    let prepared = PreparedMessage::new(big());
    slow.send_prepared(&prepared).unwrap();
    assert_eq!(
        slow.send_prepared(&prepared),
        Err(SendError::Full(big())),
        "the queue stays bounded"
    );
    assert_eq!(slow.buffered_amount(), 10_000);
    // Not open, or sending in pieces: refused like `send`.
    slow.send_fragment("a", false).unwrap();
    assert_eq!(
        slow.send_prepared(&PreparedMessage::new("x")),
        Err(SendError::FragmentOutOfOrder)
    );
}

#[test]
fn a_client_masks_its_own_copy() {
    let (mut client, mut server) = pair(Config::default(), Config::default());
    let prepared = PreparedMessage::new("to the server");
    client.send_prepared(&prepared).unwrap();
    let bytes = wire(&mut client);
    assert_eq!(bytes[1] & 0x80, 0x80, "masked");
    assert_eq!(
        deliver(&mut server, &bytes),
        [Event::Message(Message::from("to the server"))]
    );
}

#[cfg(feature = "deflate")]
mod compressed {
    use super::*;
    use crate::deflate::DeflateConfig;

    fn deflate(config: DeflateConfig) -> Config {
        Config {
            deflate: Some(config),
            ..Config::default()
        }
    }

    fn text() -> Message {
        Message::from("the same news for every subscriber ".repeat(40).as_str())
    }

    #[test]
    fn no_context_takeover_compresses_once_per_group() {
        let client = deflate(DeflateConfig::default());
        let server = deflate(DeflateConfig::no_context());
        let mut pairs: Vec<(Connection, Connection)> = (0..3)
            .map(|_| pair(client.clone(), server.clone()))
            .collect();
        let group = pairs[0].1.deflate_group().expect("no context: a group");
        assert!(pairs.iter().all(|(_, s)| s.deflate_group() == Some(group)));
        let mut prepared = PreparedMessage::new(text());
        for (_, server) in &pairs {
            prepared.prepare_for(server);
        }
        assert_eq!(prepared.groups().count(), 1, "compressed once");
        let mut first = None;
        for (client, server) in &mut pairs {
            server.send_prepared(&prepared).unwrap();
            assert_eq!(server.buffered_amount(), text().len());
            let bytes = wire(server);
            assert_eq!(bytes[0], 0xc1, "FIN, RSV1, text");
            assert!(bytes.len() < text().len() / 4, "compressed");
            first.get_or_insert_with(|| bytes.clone());
            assert_eq!(Some(&bytes), first.as_ref());
            for _ in 0..2 {
                // Twice: no context survives to the next message.
                assert_eq!(deliver(client, &bytes), [Event::Message(text())]);
            }
        }
        // What `send` writes for the same message, byte for byte.
        let (_, mut reference) = pair(client, server);
        reference.send(text()).unwrap();
        assert_eq!(Some(wire(&mut reference)), first);
    }

    #[test]
    fn context_takeover_or_an_unprepared_group_compresses_per_connection() {
        // The default keeps context: each message depends on the last.
        let on = deflate(DeflateConfig::default());
        let (mut client, mut server) = pair(on.clone(), on.clone());
        assert_eq!(server.deflate_group(), None);
        let mut prepared = PreparedMessage::new(text());
        prepared.prepare_for(&server);
        assert_eq!(prepared.groups().count(), 0);
        for _ in 0..3 {
            server.send_prepared(&prepared).unwrap();
            let bytes = wire(&mut server);
            assert_eq!(deliver(&mut client, &bytes), [Event::Message(text())]);
        }
        // A group nobody prepared: the connection compresses for itself.
        let (mut client, mut server) = pair(on, deflate(DeflateConfig::no_context()));
        let prepared = PreparedMessage::new(text());
        server.send_prepared(&prepared).unwrap();
        let bytes = wire(&mut server);
        assert_eq!(bytes[0], 0xc1);
        assert_eq!(deliver(&mut client, &bytes), [Event::Message(text())]);
        // Below the threshold nothing is compressed, prepared or not.
        let mut tiny = PreparedMessage::new("x");
        tiny.prepare_for(&server);
        assert_eq!(tiny.groups().count(), 0);
        server.send_prepared(&tiny).unwrap();
        assert_eq!(wire(&mut server), b"\x81\x01x");
    }
}
