use crate::error::RuntimeLimitError;
use crate::vm::CallFrame;
use crate::vm::call_frame::CallFrameLocation;
use crate::vm::source_info::SourcePath;
use crate::{
    Context, JsNativeErrorKind, JsValue, NativeFunction, TestAction, js_string,
    property::Attribute, run_test_actions, run_test_actions_with,
};
use boa_ast::Position;
use boa_macros::js_str;
use boa_parser::Source;
use indoc::indoc;

#[test]
fn typeof_string() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            const a = "hello";
            typeof a;
        "#},
        js_str!("string"),
    )]);
}

#[test]
fn typeof_number() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            let a = 1234;
            typeof a;
        "#},
        js_str!("number"),
    )]);
}

#[test]
fn basic_op() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            const a = 1;
            const b = 2;
            a + b
        "#},
        3,
    )]);
}

#[test]
fn position() {
    let context = &mut Context::default();
    context
        .register_global_callable(
            js_string!("check_stack"),
            2,
            NativeFunction::from_copy_closure(|_, _, context| {
                let frame = context.stack_trace().collect::<Vec<&CallFrame>>();

                assert_eq!(frame.len(), 4);
                assert_eq!(
                    frame[0].position(),
                    CallFrameLocation {
                        function_name: js_string!("myOtherFunction"),
                        path: SourcePath::None,
                        position: Some(Position::new(2, 16))
                    }
                );
                assert_eq!(
                    frame[1].position(),
                    CallFrameLocation {
                        function_name: js_string!("<eval>"),
                        path: SourcePath::Eval,
                        position: Some(Position::new(1, 16))
                    }
                );
                assert_eq!(
                    frame[2].position(),
                    CallFrameLocation {
                        function_name: js_string!("myFunction"),
                        path: SourcePath::None,
                        position: Some(Position::new(5, 9))
                    }
                );
                assert_eq!(
                    frame[3].position(),
                    CallFrameLocation {
                        function_name: js_string!("<main>"),
                        path: SourcePath::None,
                        position: Some(Position::new(8, 11))
                    }
                );
                Ok(JsValue::undefined())
            }),
        )
        .expect("Could not register function");
    run_test_actions_with(
        [TestAction::run(indoc! {r#"
            const myOtherFunction = () => {
                check_stack();
            };
            function myFunction() {
                eval("myOtherFunction()");
            }

            myFunction();
        "#})],
        context,
    );
}

#[test]
fn try_catch_finally_from_init() {
    // the initialisation of the array here emits a PopOnReturnAdd op
    //
    // here we test that the stack is not popped more than intended due to multiple catches in the
    // same function, which could lead to VM stack corruption
    run_test_actions([TestAction::assert_opaque_error(
        indoc! {r#"
            try {
                [(() => {throw "h";})()];
            } catch (x) {
                throw "h";
            } finally {
            }
        "#},
        js_str!("h"),
    )]);
}

#[test]
fn multiple_catches() {
    // see explanation on `try_catch_finally_from_init`
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            try {
                try {
                    [(() => {throw "h";})()];
                } catch (x) {
                    throw "h";
                }
            } catch (y) {
            }
        "#},
        JsValue::undefined(),
    )]);
}

#[test]
fn use_last_expr_try_block() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            try {
                19;
                7.5;
                "Hello!";
            } catch (y) {
                14;
                "Bye!"
            }
        "#},
        js_str!("Hello!"),
    )]);
}

#[test]
fn use_last_expr_catch_block() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            try {
                throw Error("generic error");
                19;
                7.5;
            } catch (y) {
                14;
                "Hello!";
            }
        "#},
        js_str!("Hello!"),
    )]);
}

#[test]
fn no_use_last_expr_finally_block() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            try {
            } catch (y) {
            } finally {
                "Unused";
            }
        "#},
        JsValue::undefined(),
    )]);
}

#[test]
fn finally_block_binding_env() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            let buf = "Hey hey";
            try {
            } catch (y) {
            } finally {
                let x = " people";
                buf += x;
            }
            buf
        "#},
        js_str!("Hey hey people"),
    )]);
}

#[test]
fn run_super_method_in_object() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            let proto = {
                m() { return "super"; }
            };
            let obj = {
                v() { return super.m(); }
            };
            Object.setPrototypeOf(obj, proto);
            obj.v();
        "#},
        js_str!("super"),
    )]);
}

#[test]
fn get_reference_by_super() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            var fromA, fromB;
            var A = { fromA: 'a', fromB: 'a' };
            var B = { fromB: 'b' };
            Object.setPrototypeOf(B, A);
            var obj = {
                fromA: 'c',
                fromB: 'c',
                method() {
                    fromA = (() => { return super.fromA; })();
                    fromB = (() => { return super.fromB; })();
                }
            };
            Object.setPrototypeOf(obj, B);
            obj.method();
            fromA + fromB
        "#},
        js_str!("ab"),
    )]);
}

#[test]
fn super_call_constructor_null() {
    run_test_actions([TestAction::assert_native_error(
        indoc! {r#"
            class A extends Object {
                constructor() {
                    Object.setPrototypeOf(A, null);
                    super(A);
                }
            }
            new A();
        "#},
        JsNativeErrorKind::Type,
        "super constructor object must be constructor",
    )]);
}

#[test]
fn super_call_get_constructor_before_arguments_execution() {
    run_test_actions([TestAction::assert(indoc! {r#"
        class A extends Object {
            constructor() {
                super(Object.setPrototypeOf(A, null));
            }
        }
        new A() instanceof A;
    "#})]);
}

#[test]
fn order_of_execution_in_assignment() {
    run_test_actions([
        TestAction::run(indoc! {r#"
                let i = 0;
                let array = [[]];

                array[i++][i++] = i++;
            "#}),
        TestAction::assert_eq("i", 3),
        TestAction::assert_eq("array.length", 1),
        TestAction::assert_eq("array[0].length", 2),
    ]);
}

#[test]
fn order_of_execution_in_assignment_with_comma_expressions() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            let result = "";
            function f(i) {
                result += i;
            }
            let a = [[]];
            (f(1), a)[(f(2), 0)][(f(3), 0)] = (f(4), 123);
            result
        "#},
        js_str!("1234"),
    )]);
}

#[test]
fn loop_iteration_budget_spans_call_frames() {
    run_test_actions([
        TestAction::run(indoc! {r#"
            function inner() { for (let i = 0; i < 10; ++i) { } }
            function outer(n) { for (let i = 0; i < n; ++i) { inner(); } }
        "#}),
        TestAction::inspect_context(|context| {
            context.set_loop_iteration_budget(55);
        }),
        // 5 outer iterations and 5 × 10 inner ones: exactly the budget.
        TestAction::assert_eq("outer(5)", JsValue::undefined()),
        TestAction::inspect_context(|context| {
            assert_eq!(context.loop_iteration_budget(), 0);
            context.set_loop_iteration_budget(55);
        }),
        // Each frame stays far below a per-frame limit; the budget stops the sum.
        TestAction::assert_runtime_limit_error("outer(6)", RuntimeLimitError::LoopIterationBudget),
        // A spent budget stops every loop, even one inside a catch block.
        TestAction::assert_runtime_limit_error(
            "try { inner() } catch { for (;;) {} }",
            RuntimeLimitError::LoopIterationBudget,
        ),
        // Functions called from native code spend the same budget: ten calls of
        // `inner` need 100 iterations.
        TestAction::inspect_context(|context| {
            context.set_loop_iteration_budget(99);
        }),
        TestAction::assert_runtime_limit_error(
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].forEach(() => inner())",
            RuntimeLimitError::LoopIterationBudget,
        ),
        // Setting the budget again lets loops run.
        TestAction::inspect_context(|context| {
            context.set_loop_iteration_budget(u64::MAX);
        }),
        TestAction::assert_eq("outer(100)", JsValue::undefined()),
    ]);
}

#[test]
fn an_interrupt_stops_a_loop_once() {
    run_test_actions([
        TestAction::inspect_context(|context| context.interrupt_handle().interrupt()),
        TestAction::assert_runtime_limit_error("for (;;) {}", RuntimeLimitError::Interrupted),
        // The request was taken: the context runs normally again.
        TestAction::assert_eq("let n = 0; for (let i = 0; i < 10; ++i) { n += i } n", 45),
        // A withdrawn request stops nothing.
        TestAction::inspect_context(|context| {
            let handle = context.interrupt_handle();
            handle.interrupt();
            assert!(handle.is_requested());
            handle.clear();
        }),
        TestAction::assert_eq("[1, 2, 3].map((x) => x * 2).join()", js_str!("2,4,6")),
    ]);
}

#[test]
fn an_interrupt_stops_calls_that_never_loop_and_cannot_be_caught() {
    run_test_actions([
        TestAction::run("function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }"),
        TestAction::inspect_context(|context| context.interrupt_handle().interrupt()),
        TestAction::assert_runtime_limit_error("fib(10)", RuntimeLimitError::Interrupted),
        TestAction::inspect_context(|context| context.interrupt_handle().interrupt()),
        // No catch or finally block runs: the error unwinds every frame.
        TestAction::assert_runtime_limit_error(
            "let seen = []; try { fib(10) } catch { seen.push('catch') } finally { seen.push('finally') }",
            RuntimeLimitError::Interrupted,
        ),
        TestAction::assert_eq("seen.length", 0),
        // A call of a native function is a check too.
        TestAction::inspect_context(|context| context.interrupt_handle().interrupt()),
        TestAction::assert_runtime_limit_error(
            "[1, 2, 3].forEach((x) => x)",
            RuntimeLimitError::Interrupted,
        ),
    ]);
}

#[test]
fn an_interrupt_from_another_thread_stops_a_running_script() {
    let mut context = Context::default();
    let handle = crate::context::InterruptHandle::new();
    context.set_interrupt_handle(handle.clone());
    for source in [
        "for (;;) {}",
        "(function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2) })(200)",
    ] {
        let interrupter = {
            let handle = handle.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                handle.interrupt();
            })
        };
        let error = context.eval(Source::from_bytes(source)).expect_err(source);
        interrupter.join().expect("the interrupting thread ends");
        assert!(
            matches!(
                error.as_engine(),
                Some(crate::error::EngineError::RuntimeLimit(
                    RuntimeLimitError::Interrupted
                ))
            ),
            "{source}: {error}"
        );
        assert!(
            !handle.is_requested(),
            "{source}: the request is taken once"
        );
    }
    // The clone the context hands out is the handle it was given.
    context.interrupt_handle().interrupt();
    assert!(handle.is_requested());
    handle.clear();
    assert_eq!(
        context.eval(Source::from_bytes("2 + 2")).expect("runs"),
        JsValue::new(4)
    );
}

#[test]
fn loop_runtime_limit() {
    run_test_actions([
        TestAction::assert_eq(
            indoc! {r#"
                for (let i = 0; i < 20; ++i) { }
            "#},
            JsValue::undefined(),
        ),
        TestAction::inspect_context(|context| {
            context.runtime_limits_mut().set_loop_iteration_limit(10);
        }),
        TestAction::assert_runtime_limit_error(
            indoc! {r#"
                for (let i = 0; i < 20; ++i) { }
            "#},
            RuntimeLimitError::LoopIteration,
        ),
        TestAction::assert_eq(
            indoc! {r#"
                for (let i = 0; i < 10; ++i) { }
            "#},
            JsValue::undefined(),
        ),
        TestAction::assert_runtime_limit_error(
            indoc! {r#"
                while (1) { }
            "#},
            RuntimeLimitError::LoopIteration,
        ),
    ]);
}

#[test]
fn recursion_runtime_limit() {
    run_test_actions([
        TestAction::run(indoc! {r#"
            function factorial(n) {
                if (n == 0) {
                    return 1;
                }

                return n * factorial(n - 1);
            }
        "#}),
        TestAction::assert_eq("factorial(8)", JsValue::new(40_320)),
        TestAction::assert_eq("factorial(11)", JsValue::new(39_916_800)),
        TestAction::inspect_context(|context| {
            context.runtime_limits_mut().set_recursion_limit(10);
        }),
        TestAction::assert_runtime_limit_error("factorial(11)", RuntimeLimitError::Recursion),
        TestAction::assert_eq("factorial(8)", JsValue::new(40_320)),
        TestAction::assert_runtime_limit_error(
            indoc! {r#"
                function x() {
                    x()
                }

                x()
            "#},
            RuntimeLimitError::Recursion,
        ),
    ]);
}

#[test]
fn arguments_object_constructor_valid_index() {
    run_test_actions([TestAction::assert_eq(
        indoc! {r#"
            let args;
            function F(a = 1) {
                args = arguments;
            }
            new F();
            typeof args
        "#},
        js_str!("object"),
    )]);
}

#[test]
fn empty_return_values() {
    run_test_actions([
        TestAction::run(indoc! {r#"do {{}} while (false);"#}),
        TestAction::run(indoc! {r#"do try {{}} catch {} while (false);"#}),
        TestAction::run(indoc! {r#"do {} while (false);"#}),
        TestAction::run(indoc! {r#"do try {{}{}} catch {} while (false);"#}),
        TestAction::run(indoc! {r#"do {{}{}} while (false);"#}),
        TestAction::run(indoc! {r#"do {;{}} while (false);"#}),
        TestAction::run(indoc! {r#"do {e: {}} while (false);"#}),
        TestAction::run(indoc! {r#"do {e: ;} while (false);"#}),
        TestAction::run(indoc! {r#"do { break } while (false);"#}),
        TestAction::run(indoc! {r#"while (true) a: break"#}),
        TestAction::run(indoc! {r#"while (true) a: {"a"; break};"#}),
        TestAction::run(indoc! {r#"do {"a";{}} while (false);"#}),
        TestAction::run(indoc! {r#"
            switch (false) {
                default: {}
            }
        "#}),
        TestAction::run(indoc! {r#"
            switch (false) {
                default: {}{}
            }
        "#}),
        TestAction::run(indoc! {r#"
            switch (false) {
                default: ;{}{}
            }
        "#}),
    ]);
}

#[test]
fn truncate_environments_on_non_caught_native_error() {
    let source = "with (new Proxy({}, {has: p => false})) {a}";
    run_test_actions([
        TestAction::assert_native_error(source, JsNativeErrorKind::Reference, "a is not defined"),
        TestAction::assert_native_error(source, JsNativeErrorKind::Reference, "a is not defined"),
    ]);
}

#[test]
fn super_construction_with_parameter_expression() {
    run_test_actions([
        TestAction::run(indoc! {r#"
            class Person {
                constructor(name) {
                    this.name = name;
                }
            }

            class Student extends Person {
                constructor(name = 'unknown') {
                    super(name);
                }
            }
        "#}),
        TestAction::assert_eq("new Student().name", js_str!("unknown")),
        TestAction::assert_eq("new Student('Jack').name", js_str!("Jack")),
    ]);
}

#[test]
fn cross_context_function_call() {
    let context1 = &mut Context::default();
    let result = context1.eval(Source::from_bytes(indoc! {r"
        var global = 100;

        (function x() {
            return global;
        })
    "}));

    assert!(result.is_ok());
    let result = result.unwrap();
    assert!(result.is_callable());

    let context2 = &mut Context::default();

    context2
        .register_global_property(js_string!("func"), result, Attribute::all())
        .unwrap();

    let result = context2.eval(Source::from_bytes("func()"));

    assert_eq!(result, Ok(JsValue::new(100)));
}

// See: https://github.com/boa-dev/boa/issues/1848
#[test]
fn long_object_chain_gc_trace_stack_overflow() {
    run_test_actions([
        TestAction::run(indoc! {r#"
            let old = {};
            for (let i = 0; i < 100000; i++) {
                old = { old };
            }
        "#}),
        TestAction::inspect_context(|_| boa_gc::force_collect()),
    ]);
}

// See: https://github.com/boa-dev/boa/issues/4515
#[test]
fn recursion_in_async_gen_throws_uncatchable_error() {
    run_test_actions([
        TestAction::inspect_context(|context| {
            context.runtime_limits_mut().set_recursion_limit(128);
        }),
        TestAction::assert_runtime_limit_error(
            indoc! {r#"
                async function* f() {}
                f().return({
                  get then() {
                    this.then;
                  },
                });
            "#},
            RuntimeLimitError::Recursion,
        ),
    ]);
}

#[test]
fn recursion_in_setter_throws_uncatchable_error() {
    run_test_actions([
        TestAction::inspect_context(|context| {
            context.runtime_limits_mut().set_recursion_limit(128);
        }),
        TestAction::assert_runtime_limit_error(
            indoc! {r#"
                const obj = {
                  set x(value) {
                    this.x = value;
                  },
                };
                obj.x = 1;
            "#},
            RuntimeLimitError::Recursion,
        ),
    ]);
}

#[test]
fn inline_cache_of_a_prototype_slot_follows_the_prototype() {
    run_test_actions([
        TestAction::run(
            "function get(o) { return o.x; }
             var proto = { x: 1 };
             var o = Object.create(proto);
             get(o);",
        ),
        // Deleting a property before it moves the cached slot.
        TestAction::assert_eq(
            "Object.defineProperty(proto, 'w', { value: 0, configurable: true });
             proto.x = 2; get(o); delete proto.w; get(o)",
            2,
        ),
        // Deleting the cached property itself.
        TestAction::assert_eq(
            "proto.y = 3; get(o); delete proto.x; get(o)",
            JsValue::undefined(),
        ),
        // Data becomes an accessor.
        TestAction::assert_eq(
            "proto.x = 4; get(o); Object.defineProperty(proto, 'x', { get() { return 5; } }); get(o)",
            5,
        ),
        // A getter on the prototype, then deleted.
        TestAction::assert_eq(
            "function len(a) { return a.length; }
             const a = new Float32Array(3);
             Object.defineProperty(Float32Array.prototype, 'length', { get() { return 11; }, configurable: true });
             len(a); delete Float32Array.prototype.length; len(a)",
            3,
        ),
    ]);
}

#[test]
fn native_calls_pass_their_arguments_through_a_reused_buffer() {
    run_test_actions([
        // Arguments arrive in order, and none is left behind for the next call.
        TestAction::assert_eq("Math.max(1, 7, 3) + Math.max()", f64::NEG_INFINITY),
        TestAction::assert_eq(
            "Array.of(1, 2, 3).join() + '|' + Array.of().length",
            js_string!("1,2,3|0"),
        ),
        // Native calls nested in a native call (map → arrow → Math.max, String).
        TestAction::assert_eq(
            "[1, 2, 3].map((x) => Math.max(x, String(x * 5).length * 2, -x)).join()",
            js_string!("2,4,4"),
        ),
        TestAction::assert_eq(
            "Reflect.apply(Math.max, null, Array.from({ length: 1000 }, (_, i) => i))",
            999,
        ),
        // A native call that throws leaves the next one sound.
        TestAction::assert_eq(
            "let caught; try { JSON.parse('{'); } catch (e) { caught = e.name; } caught + Math.min(4, 2)",
            js_string!("SyntaxError2"),
        ),
        // The arguments object is a copy, not the buffer.
        TestAction::assert_eq(
            "function keep() { return arguments; }
             const kept = Reflect.apply(keep, null, [1, 2]);
             Math.max(9, 9, 9);
             kept[0] + kept[1]",
            3,
        ),
    ]);

    let context = &mut Context::default();
    context
        .eval(Source::from_bytes(
            "for (let i = 0; i < 10; i++) Math.max(i, 1, 2, 3);",
        ))
        .unwrap();
    let buffer = &context.vm.native_arguments;
    assert!(buffer.is_empty(), "no argument outlives its call");
    assert!(
        buffer.capacity() >= 4,
        "the buffer is kept for the next call"
    );
}

#[test]
fn native_call_arguments_keep_their_order() {
    run_test_actions([
        TestAction::assert_eq("Math.atan2(1, 0) > Math.atan2(0, 1)", true),
        TestAction::assert_eq(
            "String.prototype.concat.call('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i')",
            js_string!("abcdefghi"),
        ),
        TestAction::assert_eq("[3, 1, 2].indexOf(2, 1)", 2),
        TestAction::assert_eq(
            "String.fromCharCode(...Array.from({ length: 40 }, (_, i) => 65 + i % 26))",
            js_string!("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN"),
        ),
    ]);
}

#[test]
fn global_names_are_read_through_with_and_eval() {
    run_test_actions([
        TestAction::run(
            "var g = 1;
             function read() { return g; }
             function fail() { try { return nope; } catch (e) { return e.message; } }",
        ),
        TestAction::assert_eq("read()", 1),
        TestAction::assert_eq("g = 4; read()", 4),
        // An object environment in between.
        TestAction::assert_eq("with ({ g: 2 }) { (function () { return g; })() }", 2),
        TestAction::assert_eq("with ({}) { (function () { return g; })() }", 4),
        // A sloppy direct eval that declares the name in the function.
        TestAction::assert_eq("(function () { eval('var g = 3'); return g; })()", 3),
        TestAction::assert_eq("(function () { eval(''); return g; })()", 4),
        // Properties of the global object that come and go.
        TestAction::assert_eq("globalThis.late = 5; (function () { return late; })()", 5),
        TestAction::assert_eq("fail()", js_string!("nope is not defined")),
        TestAction::assert_eq(
            "globalThis.nope = 6; const seen = fail(); delete globalThis.nope; seen + fail()",
            js_string!("6nope is not defined"),
        ),
    ]);
}
