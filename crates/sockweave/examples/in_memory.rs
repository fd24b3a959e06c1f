//! A client core and a server core talking through an in-memory "link":
//! the whole protocol, handshake to clean close, with no I/O at all.
//!
//! `cargo run -p sockweave --example in_memory`

use sockweave::{
    BytesMut, ClientRequest, CloseCode, Config, Connection, Event, Instant, Message, ReadyState,
    ServerPolicy,
};

/// One turn of the drive loop for `from`'s output into `to`'s input.
fn deliver(from: &mut Connection, to: &mut Connection, input: &mut BytesMut, now: Instant) {
    let mut wire = Vec::new();
    from.poll_transmit(&mut wire);
    input.extend_from_slice(&wire);
    to.receive(input, now);
    // A server that is CLOSED has closed its socket: the client sees EOF.
    if from.ready_state() == ReadyState::Closed && from.role() == sockweave::Role::Server {
        to.receive_eof(now);
    }
}

fn main() {
    let now = Instant::ZERO;
    let request = ClientRequest::new("ws://localhost/chat")
        .unwrap()
        .protocol("chat");
    // A real client passes a cryptographically secure source here.
    let entropy = |buf: &mut [u8]| {
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i as u8).wrapping_mul(31))
    };
    let mut client =
        Connection::client(&request, Config::default(), entropy, now).expect("a valid request");
    let mut policy = ServerPolicy::default();
    policy.protocols.push("chat".into());
    let mut server = Connection::server(policy, Config::default(), now).unwrap();
    let (mut client_in, mut server_in) = (BytesMut::new(), BytesMut::new());

    deliver(&mut client, &mut server, &mut server_in, now); // GET ... Upgrade
    deliver(&mut server, &mut client, &mut client_in, now); // 101 Switching Protocols
    client.ping(b"are you there?").unwrap();
    client.send("hello, server").unwrap();

    loop {
        deliver(&mut client, &mut server, &mut server_in, now);
        while let Some(event) = server.poll_event() {
            println!("server: {event:?}");
            if let Event::Message(Message::Text(text)) = event {
                server.send(format!("echo: {text}")).unwrap();
                server.close(CloseCode::NORMAL, "done", now).unwrap();
            }
        }
        deliver(&mut server, &mut client, &mut client_in, now);
        while let Some(event) = client.poll_event() {
            println!("client: {event:?}");
        }
        if client.ready_state() == ReadyState::Closed && server.ready_state() == ReadyState::Closed
        {
            break;
        }
    }
}
