/*
 * context_x86_64.S -- stack switching for x86-64 (System V ABI).
 *
 * gmprt_context_swap(Context *from, Context *to):
 *   pushes the callee-saved registers (rbp rbx r12-r15) and the MXCSR and x87
 *   control words, stores rsp in from->sp, loads to->sp and pops the same
 *   frame. The frame, from the saved sp upwards:
 *     sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 zero bytes
 *     sp+8   r15
 *     sp+16  r14
 *     sp+24  r13
 *     sp+32  r12
 *     sp+40  rbx
 *     sp+48  rbp
 *     sp+56  return address
 *   context.cpp builds the same frame for a new fiber (kFrameWords there):
 *   r12 = argument, r13 = entry, return address = gmprt_context_start.
 *
 * gmprt_context_start: the first code of a new fiber. rsp is 16-byte aligned
 *   here (the frame is laid out so), so the call below meets the ABI. The
 *   entry never returns; the CFI marks this frame as the outermost one so
 *   debuggers and unwinders stop here.
 */
/* The callee-saved registers, in frame order (see the layout above). */
.macro PUSH_CALLEE_SAVED
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm
.macro POP_CALLEE_SAVED
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
.endm
/* The FP control words into a new slot below the registers: MXCSR (4 bytes),
 * x87 control word (2 bytes), 2 zero bytes. */
.macro SAVE_FP_CONTROL
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movw $0, 6(%rsp)
.endm

    .text
    .globl gmprt_context_swap
    .hidden gmprt_context_swap
    .type gmprt_context_swap, @function
    .p2align 4
gmprt_context_swap:
    .cfi_startproc
    PUSH_CALLEE_SAVED
    SAVE_FP_CONTROL
    /* Read back as they were stored (4 + 2 bytes): one 8-byte load of the
     * three small stores would stall on store forwarding. */
    movl (%rsp), %eax
    movzwl 4(%rsp), %ecx
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    /* Restore the control words only when they differ from the ones just
     * saved: LDMXCSR and FLDCW are slow, and the words almost never change. */
    cmpl (%rsp), %eax
    jne 1f
    cmpw 4(%rsp), %cx
    jne 1f
2:
    addq $8, %rsp
    POP_CALLEE_SAVED
    ret
1:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    jmp 2b
    .cfi_endproc
    .size gmprt_context_swap, .-gmprt_context_swap

/*
 * The scheduler's pair (proc.cpp): switches between goroutines go
 * G -> g0 -> G' (the direct yield excepted: it uses gmprt_context_swap, see
 * switch.hpp), and g0 never changes the FP control words. So the words are
 * saved once, when a goroutine leaves (gmprt_context_swap_to_g0, which also
 * records them in *fpctl: they are now the thread's), and restored when a
 * goroutine arrives only if they differ from the thread's
 * (gmprt_context_swap_from_g0). STMXCSR and LDMXCSR are slow; this keeps one
 * STMXCSR per round trip and no LDMXCSR in the common case. The frame is the
 * same as above; g0's control-word slot is never read.
 *
 * gmprt_context_swap_to_g0(Context *from, Context *to, uint64_t *fpctl)
 */
    .globl gmprt_context_swap_to_g0
    .hidden gmprt_context_swap_to_g0
    .type gmprt_context_swap_to_g0, @function
    .p2align 4
gmprt_context_swap_to_g0:
    .cfi_startproc
    PUSH_CALLEE_SAVED
    SAVE_FP_CONTROL
    movl (%rsp), %eax
    movl %eax, (%rdx)
    movzwl 4(%rsp), %eax
    movl %eax, 4(%rdx)
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    addq $8, %rsp
    POP_CALLEE_SAVED
    ret
    .cfi_endproc
    .size gmprt_context_swap_to_g0, .-gmprt_context_swap_to_g0

/* gmprt_context_swap_from_g0(Context *from, Context *to, uint64_t *fpctl) */
    .globl gmprt_context_swap_from_g0
    .hidden gmprt_context_swap_from_g0
    .type gmprt_context_swap_from_g0, @function
    .p2align 4
gmprt_context_swap_from_g0:
    .cfi_startproc
    PUSH_CALLEE_SAVED
    subq $8, %rsp
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    movq (%rsp), %rax
    cmpq (%rdx), %rax
    jne 1f
2:
    addq $8, %rsp
    POP_CALLEE_SAVED
    ret
1:
    movq %rax, (%rdx)
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    jmp 2b
    .cfi_endproc
    .size gmprt_context_swap_from_g0, .-gmprt_context_swap_from_g0

    .globl gmprt_context_start
    .hidden gmprt_context_start
    .type gmprt_context_start, @function
    .p2align 4
gmprt_context_start:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size gmprt_context_start, .-gmprt_context_start

    .section .note.GNU-stack,"",@progbits
