//! Port routing, on the realm's (render) thread.
//!
//! The router knows, for every port of a node instance, where it lives (realm or
//! main side) and which port it is entangled with. Every post goes through it:
//! from the realm's outbox after each entry into JavaScript, and from the main
//! side's queue between quanta (bounded per call). Because all routing happens on
//! this one thread, in queue order, ordering per port is kept.
//!
//! A port that moves from the main side into the realm may still have messages
//! in flight towards the main side; those come back as bounces. The router holds
//! newer messages for that port until the expected number of bounces arrived, so
//! the port sees its messages in the order they were sent.

use std::collections::HashMap;
use std::sync::Arc;

use rtrb::{Consumer, Producer, RingBuffer};

use super::envelope::{DropCounters, Message, MovedPort, Pending, PortId, ToMain, ToRealm};
use super::main_ports::MainPorts;
use super::{GLOBAL_PORT, NODE_PORT, PROCESSOR_PORT, SCOPE_PORT, TO_MAIN_CAPACITY, TO_REALM_CAPACITY};
use crate::engine::ScriptError;

/// Where a port lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// In the worklet realm.
    Realm,
    /// On the main side.
    Main,
}

#[derive(Debug)]
struct Entry {
    home: Home,
    peer: Option<PortId>,
    /// `Deliver`s sent to this port on the main side, over its life.
    sent_to_main: u64,
    /// Bounces still expected before held messages may go.
    expected_bounces: u64,
    held: Vec<Message>,
}

impl Entry {
    fn new(home: Home, peer: Option<PortId>) -> Self {
        Self { home, peer, sent_to_main: 0, expected_bounces: 0, held: Vec::new() }
    }
}

/// Where the router delivers messages for ports that live in the realm.
pub trait RealmInbox {
    /// Creates the realm's object for a port that moved into the realm.
    fn adopt(&mut self, port: PortId);
    /// Queues a message task on a realm port; `false` if it was dropped (port
    /// closed, or its queue is full).
    fn enqueue(&mut self, port: PortId, data: &serde_json::Value, ports: &[PortId]) -> bool;
}

/// Creates the two queues of a node instance: the main side's end and the router.
pub fn channel_pair() -> (MainPorts, Router) {
    let (to_realm, from_main) = RingBuffer::new(TO_REALM_CAPACITY);
    let (to_main, from_realm) = RingBuffer::new(TO_MAIN_CAPACITY);
    let counters = Arc::new(DropCounters::default());
    (MainPorts::new(to_realm, from_realm, counters.clone()), Router::new(to_main, from_main, counters))
}

/// The main side's end and the far ends of its queues, for a relay to a router
/// in another process: push what that router sent, pop what to send it.
pub(crate) fn main_relay() -> (MainPorts, Producer<ToMain>, Consumer<ToRealm>) {
    let (to_realm, from_main) = RingBuffer::new(TO_REALM_CAPACITY);
    let (to_main, from_realm) = RingBuffer::new(TO_MAIN_CAPACITY);
    (MainPorts::new(to_realm, from_realm, Arc::new(DropCounters::default())), to_main, from_main)
}

/// A router and the far ends of its queues, for a relay to a main side in
/// another process: push what that side sent, pop what to send it.
pub(crate) fn realm_relay() -> (Router, Producer<ToRealm>, Consumer<ToMain>) {
    let (to_realm, from_main) = RingBuffer::new(TO_REALM_CAPACITY);
    let (to_main, from_realm) = RingBuffer::new(TO_MAIN_CAPACITY);
    (Router::new(to_main, from_main, Arc::new(DropCounters::default())), to_realm, from_realm)
}

/// The realm side's routing table and queue ends.
pub struct Router {
    ports: HashMap<PortId, Entry>,
    to_main: Producer<ToMain>,
    from_main: Consumer<ToRealm>,
    counters: Arc<DropCounters>,
}

impl Router {
    fn new(to_main: Producer<ToMain>, from_main: Consumer<ToRealm>, counters: Arc<DropCounters>) -> Self {
        let ports = HashMap::from([
            (SCOPE_PORT, Entry::new(Home::Realm, Some(GLOBAL_PORT))),
            (GLOBAL_PORT, Entry::new(Home::Main, Some(SCOPE_PORT))),
            (PROCESSOR_PORT, Entry::new(Home::Realm, Some(NODE_PORT))),
            (NODE_PORT, Entry::new(Home::Main, Some(PROCESSOR_PORT))),
        ]);
        Self { ports, to_main, from_main, counters }
    }

    /// Where `port` lives, if it is known and open.
    pub fn home(&self, port: PortId) -> Option<Home> {
        self.ports.get(&port).map(|entry| entry.home)
    }

    /// The drop counters shared with the main side.
    pub fn counters(&self) -> &Arc<DropCounters> {
        &self.counters
    }

    /// Records a `MessageChannel` created in the realm.
    pub fn entangle(&mut self, a: PortId, b: PortId) {
        self.ports.insert(a, Entry::new(Home::Realm, Some(b)));
        self.ports.insert(b, Entry::new(Home::Realm, Some(a)));
    }

    /// `port.close()` on either side: both ends are disentangled.
    pub fn close(&mut self, port: PortId) {
        if let Some(entry) = self.ports.remove(&port)
            && let Some(peer) = entry.peer.and_then(|peer| self.ports.get_mut(&peer))
        {
            peer.peer = None;
        }
    }

    /// Routes a post from `from` to its peer, wherever that lives.
    pub fn post(&mut self, from: PortId, message: Message, realm: &mut dyn RealmInbox) {
        let Some(peer) = self.ports.get(&from).and_then(|entry| entry.peer) else {
            // A closed or disentangled port's posts are dropped silently.
            return;
        };
        self.deliver(peer, message, realm);
    }

    /// Sends a console line to the main side (dropped and counted when full).
    pub fn console(&mut self, level: String, text: String) {
        if self.to_main.push(ToMain::Console { level, text }).is_err() {
            self.counters.count_to_main(1);
        }
    }

    /// Sends a `processorerror` to the main side (dropped and counted when full).
    pub fn processor_error(&mut self, error: ScriptError) {
        if self.to_main.push(ToMain::ProcessorError(error)).is_err() {
            self.counters.count_to_main(1);
        }
    }

    /// Routes at most `budget` envelopes from the main side; returns how many.
    pub fn intake(&mut self, budget: usize, realm: &mut dyn RealmInbox) -> usize {
        let mut taken = 0;
        while taken < budget {
            let Ok(envelope) = self.from_main.pop() else { break };
            taken += 1;
            match envelope {
                ToRealm::Post { from, message } => self.post(from, message, realm),
                ToRealm::Close { port } => self.close(port),
                ToRealm::Bounce { port, message } => self.bounced(port, message, realm),
            }
        }
        taken
    }

    fn bounced(&mut self, port: PortId, message: Message, realm: &mut dyn RealmInbox) {
        let Some(entry) = self.ports.get_mut(&port) else { return };
        entry.expected_bounces = entry.expected_bounces.saturating_sub(1);
        let release = entry.expected_bounces == 0;
        self.send(port, message, realm);
        if release && let Some(entry) = self.ports.get_mut(&port) {
            for held in std::mem::take(&mut entry.held) {
                self.send(port, held, realm);
            }
        }
    }

    /// Delivers to `to`, unless it is waiting for bounces (then the message is held).
    fn deliver(&mut self, to: PortId, message: Message, realm: &mut dyn RealmInbox) {
        match self.ports.get_mut(&to) {
            None => {}
            Some(entry) if entry.expected_bounces > 0 => entry.held.push(message),
            Some(_) => self.send(to, message, realm),
        }
    }

    /// Sends to where `to` lives now, moving the message's ports there too.
    fn send(&mut self, to: PortId, message: Message, realm: &mut dyn RealmInbox) {
        let Some(home) = self.home(to) else { return };
        for moved in &message.moved {
            self.arrive(moved, home);
        }
        match home {
            Home::Realm => {
                for moved in &message.moved {
                    realm.adopt(moved.id);
                }
                if !realm.enqueue(to, &message.data, &message.ports) {
                    self.counters.count_port_queue();
                }
                for moved in message.moved {
                    self.send_pending(moved.id, moved.pending, realm);
                }
            }
            Home::Main => {
                if let Some(entry) = self.ports.get_mut(&to) {
                    entry.sent_to_main += 1;
                }
                let moved: Vec<PortId> = message.moved.iter().map(|m| m.id).collect();
                if self.to_main.push(ToMain::Deliver { to, message }).is_err() {
                    // The message is lost, and with it the ports it carried.
                    if let Some(entry) = self.ports.get_mut(&to) {
                        entry.sent_to_main -= 1;
                    }
                    self.counters.count_to_main(1);
                    for id in moved {
                        self.close(id);
                    }
                }
            }
        }
    }

    fn send_pending(&mut self, port: PortId, pending: Vec<Pending>, realm: &mut dyn RealmInbox) {
        for item in pending {
            if !realm.enqueue(port, &item.data, &item.ports) {
                self.counters.count_port_queue();
            }
        }
    }

    /// Records that `moved` now lives at `home`.
    fn arrive(&mut self, moved: &MovedPort, home: Home) {
        let Some(entry) = self.ports.get_mut(&moved.id) else { return };
        if entry.home == Home::Main && home == Home::Realm {
            entry.expected_bounces += entry.sent_to_main.saturating_sub(moved.received);
        }
        entry.home = home;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::port::Received;

    #[derive(Default)]
    struct Inbox(Vec<(PortId, serde_json::Value)>);

    impl RealmInbox for Inbox {
        fn adopt(&mut self, _: PortId) {}
        fn enqueue(&mut self, port: PortId, data: &serde_json::Value, _: &[PortId]) -> bool {
            self.0.push((port, data.clone()));
            true
        }
    }

    fn text(n: i32) -> Message {
        Message { data: json!(n), ..Message::default() }
    }

    #[test]
    fn posts_cross_in_both_directions() {
        let (mut main, mut router) = channel_pair();
        let mut inbox = Inbox::default();
        main.post(NODE_PORT, json!("ping"), &[]).unwrap();
        router.intake(16, &mut inbox);
        assert_eq!(inbox.0, [(PROCESSOR_PORT, json!("ping"))]);
        router.post(SCOPE_PORT, text(1), &mut inbox);
        assert_eq!(main.try_receive(), Some(Received::Message { port: GLOBAL_PORT, data: json!(1), ports: vec![] }));
        assert_eq!(main.try_receive(), None);
    }

    #[test]
    fn a_port_moved_back_into_the_realm_keeps_its_order() {
        let (mut main, mut router) = channel_pair();
        let mut inbox = Inbox::default();
        // A realm channel (10, 11); 11 goes to the main side.
        router.entangle(10, 11);
        router.post(
            PROCESSOR_PORT,
            Message {
                data: json!({"$port": 0}),
                ports: vec![11],
                moved: vec![MovedPort { id: 11, ..MovedPort::default() }],
            },
            &mut inbox,
        );
        assert!(matches!(main.try_receive(), Some(Received::Message { ports, .. }) if ports == [11]));
        // The realm posts 1 (taken), 2 and 3 (in flight) to 11.
        router.post(10, text(1), &mut inbox);
        assert!(matches!(main.try_receive(), Some(Received::Message { port: 11, .. })));
        router.post(10, text(2), &mut inbox);
        router.post(10, text(3), &mut inbox);
        // The main side sends 11 back before it has seen 2 and 3; then the realm posts 4.
        main.post(NODE_PORT, json!({"$port": 0}), &[11]).unwrap();
        router.intake(16, &mut inbox);
        router.post(10, text(4), &mut inbox);
        // 2 and 3 bounce back from the main side; 4 was held until they did.
        assert_eq!(main.try_receive(), None);
        router.intake(16, &mut inbox);
        let to_11: Vec<_> = inbox.0.iter().filter(|(p, _)| *p == 11).map(|(_, d)| d.clone()).collect();
        assert_eq!(to_11, [json!(2), json!(3), json!(4)]);
    }

    #[test]
    fn an_undeserializable_message_is_a_messageerror_on_the_main_side() {
        let (mut main, mut router) = channel_pair();
        let mut inbox = Inbox::default();
        router.post(PROCESSOR_PORT, Message { data: json!({"$number": "eleven"}), ..Message::default() }, &mut inbox);
        router.post(PROCESSOR_PORT, text(2), &mut inbox);
        assert_eq!(main.try_receive(), Some(Received::MessageError { port: NODE_PORT }));
        assert_eq!(main.try_receive(), Some(Received::Message { port: NODE_PORT, data: json!(2), ports: vec![] }));
    }

    #[test]
    fn closing_drops_the_peers_posts() {
        let (mut main, mut router) = channel_pair();
        let mut inbox = Inbox::default();
        main.close(NODE_PORT);
        router.intake(16, &mut inbox);
        router.post(PROCESSOR_PORT, text(1), &mut inbox);
        assert_eq!(main.try_receive(), None);
        assert_eq!(main.post(NODE_PORT, json!(1), &[]), Err(crate::port::PostError::NotHeld(NODE_PORT)));
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (mut main, mut router) = channel_pair();
        let mut inbox = Inbox::default();
        let mut refused = 0;
        for n in 0..(TO_REALM_CAPACITY + 10) {
            if main.post(NODE_PORT, json!(n), &[]).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 10);
        assert_eq!(main.dropped().to_realm, 10);
        for n in 0..(TO_MAIN_CAPACITY + 3) {
            router.post(PROCESSOR_PORT, text(n as i32), &mut inbox);
        }
        assert_eq!(main.dropped().to_main, 3);
    }
}
