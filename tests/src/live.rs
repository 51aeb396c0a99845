//! Driving a real pipeline (render threads and all) from a test, as a host would,
//! with test-only pacing: after each block the test waits for the render threads
//! to catch up, so results are deterministic. The host side itself never waits.

use std::time::{Duration, Instant};

use worklet::engine::Transport;
use worklet::render::{
    BlockEvent, EventsIn, EventsOut, HostSide, ModuleSource, ParamChange, Pipeline, PipelineConfig, PipelineEvent,
    Recipe,
};

/// How long a test waits for a build or for a render thread to catch up.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A recipe with one in-memory module.
pub fn recipe(source: &str) -> Recipe {
    Recipe {
        modules: vec![ModuleSource { name: "main.js".into(), text: source.into(), folder: None }],
        ..Recipe::default()
    }
}

/// A recipe from a file in `processors/`.
pub fn factory_recipe(file: &str) -> Recipe {
    recipe(&crate::processors_dir_source(file))
}

/// Test configuration: no real-time priority (tests share the machine).
pub fn config(max_block: usize) -> PipelineConfig {
    PipelineConfig { realtime_priority: false, ..PipelineConfig::new(crate::RATE, max_block) }
}

/// A pipeline, its host side, and what the control side has seen.
pub struct Live {
    /// The control side.
    pub pipeline: Pipeline,
    /// The host side.
    pub host: HostSide,
    /// Events from `Pipeline::poll`, in order.
    pub events: Vec<PipelineEvent>,
}

impl Live {
    /// Builds the first generation and waits until it is ready.
    pub fn new(config: PipelineConfig, recipe: Recipe) -> Self {
        let (pipeline, host) = Pipeline::new(config);
        let mut live = Self { pipeline, host, events: Vec::new() };
        live.load(recipe);
        live
    }

    /// Loads a generation and waits until it is ready or failed; returns that event.
    pub fn load(&mut self, recipe: Recipe) -> PipelineEvent {
        let id = self.pipeline.load(recipe).expect("spawn a render thread");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let events = self.pipeline.poll();
            self.events.extend(events.iter().cloned());
            let found = events.into_iter().find(|event| event.generation() == id);
            if let Some(event) = found {
                return event;
            }
            assert!(Instant::now() < deadline, "generation {id} was not built in time");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// One host block of `frames` frames (`input` per channel), then waits until
    /// every complete quantum fed so far has been rendered. Returns the output.
    pub fn block(&mut self, input: &[&[f32]], frames: usize, changes: &[ParamChange]) -> Vec<Vec<f32>> {
        let channels: usize = self.pipeline.config().output_buses().iter().sum();
        let mut output = vec![vec![0.0; frames]; channels];
        let mut slices: Vec<&mut [f32]> = output.iter_mut().map(Vec::as_mut_slice).collect();
        self.host.process(input, &mut slices, changes);
        self.settle();
        self.events.extend(self.pipeline.poll());
        output
    }

    /// [`Self::block`] with the block's MIDI and transport; also returns the MIDI
    /// the processor sent that came out in this block.
    pub fn block_with_events(
        &mut self,
        input: &[&[f32]],
        frames: usize,
        events: &[BlockEvent],
        transport: Option<&Transport>,
    ) -> (Vec<Vec<f32>>, Vec<BlockEvent>) {
        let (output, out) = self.block_with(input, frames, events.into(), transport);
        (output, out.events().to_vec())
    }

    /// [`Self::block_with_events`] with SysEx among the events; returns what
    /// the processor sent with the bytes of its SysEx.
    pub fn block_with(
        &mut self,
        input: &[&[f32]],
        frames: usize,
        events: EventsIn<'_>,
        transport: Option<&Transport>,
    ) -> (Vec<Vec<f32>>, EventsOut) {
        let channels: usize = self.pipeline.config().output_buses().iter().sum();
        let mut output = vec![vec![0.0; frames]; channels];
        let mut slices: Vec<&mut [f32]> = output.iter_mut().map(Vec::as_mut_slice).collect();
        let mut out = EventsOut::default();
        self.host.process_with_events(input, &mut slices, &[], events, transport, Some(&mut out));
        self.settle();
        self.events.extend(self.pipeline.poll());
        (output, out)
    }

    /// Everything the newest generation's main-side ports have received so far.
    pub fn received(&mut self) -> Vec<worklet::port::Received> {
        let ports = self.pipeline.ports().expect("a generation is ready");
        std::iter::from_fn(|| ports.try_receive()).collect()
    }

    /// Waits until the render threads have caught up with what was fed.
    pub fn settle(&self) {
        assert!(self.host.wait_for_backlog(0, PATIENCE), "the render thread did not catch up");
    }

    /// Feeds `input` (per channel) in blocks of the given sizes, cycling through
    /// them; returns the whole output per channel.
    pub fn run(&mut self, input: &[Vec<f32>], sizes: &[usize]) -> Vec<Vec<f32>> {
        self.feed(input, sizes, true)
    }

    /// [`Self::run`] as a bounce: the pipeline renders offline, and nothing but
    /// the host side waits for the render threads (they may run ahead of what it
    /// plays, as in a DAW's bounce).
    pub fn bounce(&mut self, input: &[Vec<f32>], sizes: &[usize]) -> Vec<Vec<f32>> {
        assert!(self.pipeline.config().offline, "a bounce renders offline");
        self.feed(input, sizes, false)
    }

    fn feed(&mut self, input: &[Vec<f32>], sizes: &[usize], settle: bool) -> Vec<Vec<f32>> {
        let total = input[0].len();
        let channels: usize = self.pipeline.config().output_buses().iter().sum();
        let mut output = vec![Vec::with_capacity(total); channels];
        let mut done = 0;
        for &size in sizes.iter().cycle() {
            if done >= total {
                break;
            }
            let n = size.min(total - done);
            let slices: Vec<&[f32]> = input.iter().map(|c| &c[done..done + n]).collect();
            let block = if settle {
                self.block(&slices, n, &[])
            } else {
                let mut block = vec![vec![0.0; n]; channels];
                let mut targets: Vec<&mut [f32]> = block.iter_mut().map(Vec::as_mut_slice).collect();
                self.host.process(&slices, &mut targets, &[]);
                block
            };
            for (out, channel) in output.iter_mut().zip(block) {
                out.extend(channel);
            }
            done += n;
        }
        output
    }
}

/// A plugin's control thread started on a fresh pipeline from `state`, as
/// `activate` starts it; returns the host side (to drive or keep), the
/// parameters, the status and the controller.
pub fn control(
    state: worklet::plugin::state::SavedState,
) -> (
    HostSide,
    std::sync::Arc<worklet::plugin::params::WorkletParams>,
    std::sync::Arc<worklet::plugin::status::Status>,
    worklet::plugin::controller::Controller,
) {
    let (pipeline, host) = Pipeline::new(config(128));
    let params = std::sync::Arc::new(worklet::plugin::params::WorkletParams::default());
    let status = std::sync::Arc::new(worklet::plugin::status::Status::default());
    let controller = worklet::plugin::controller::Controller::start(
        pipeline,
        params.clone(),
        status.clone(),
        (state, 0),
        Duration::from_secs(10),
    )
    .expect("start the control thread");
    (host, params, status, controller)
}
