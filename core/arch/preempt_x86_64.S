/*
 * preempt_x86_64.S -- the asynchronous preemption trampoline for x86-64
 * (System V ABI); see preempt.cpp.
 *
 * gmprt_async_preempt_tramp is entered, not called: the SIGURG handler
 * rewrote the interrupted context so that it resumes here with
 *     rsp+0      the interrupted instruction's address
 *     rsp+8      the interrupted code's 128-byte red zone, untouched
 *     rsp+136    the interrupted rsp
 * Every register may be live. It pushes the flags and all sixteen general
 * registers but rsp, saves the FP/vector state below them (XSAVE with the
 * components in gmprt_xsave_mask, or FXSAVE when the mask is 0) in an area
 * of gmprt_xsave_size bytes aligned to 64, calls gmprt_async_preempt (which
 * yields), restores the lot and returns with `ret $128`, which pops the
 * interrupted address and skips the red zone: rsp is the interrupted one.
 *
 * The CFI describes the interrupted frame (CFA = interrupted rsp, its rip
 * and callee-saved registers where they were pushed), marked as a signal
 * frame so unwinders take the return address as exact.
 */
    .text
    .globl gmprt_async_preempt_tramp
    .hidden gmprt_async_preempt_tramp
    .type gmprt_async_preempt_tramp, @function
    .p2align 4
gmprt_async_preempt_tramp:
    .cfi_startproc
    .cfi_signal_frame
    .cfi_def_cfa_offset 136
    .cfi_offset %rip, -136
    pushfq
    .cfi_adjust_cfa_offset 8
    pushq %rax
    .cfi_adjust_cfa_offset 8
    pushq %rcx
    .cfi_adjust_cfa_offset 8
    pushq %rdx
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbx, -176
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbp, -184
    pushq %rsi
    .cfi_adjust_cfa_offset 8
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    pushq %r8
    .cfi_adjust_cfa_offset 8
    pushq %r9
    .cfi_adjust_cfa_offset 8
    pushq %r10
    .cfi_adjust_cfa_offset 8
    pushq %r11
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -232
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -240
    pushq %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r14, -248
    pushq %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r15, -256
    /* rbx (callee-saved) keeps the frame's address across the call. */
    movq %rsp, %rbx
    .cfi_def_cfa_register %rbx
    movl gmprt_xsave_size(%rip), %ecx
    subq %rcx, %rsp
    andq $-64, %rsp
    movl gmprt_xsave_mask(%rip), %eax
    testl %eax, %eax
    jz 1f
    /* XSAVE writes only XSTATE_BV of the 64-byte header; XRSTOR wants the
     * rest zero. */
    xorl %edx, %edx
    movq %rdx, 512(%rsp)
    movq %rdx, 520(%rsp)
    movq %rdx, 528(%rsp)
    movq %rdx, 536(%rsp)
    movq %rdx, 544(%rsp)
    movq %rdx, 552(%rsp)
    movq %rdx, 560(%rsp)
    movq %rdx, 568(%rsp)
    xsave64 (%rsp)
    jmp 2f
1:
    fxsave64 (%rsp)
2:
    cld
    call gmprt_async_preempt
    movl gmprt_xsave_mask(%rip), %eax
    testl %eax, %eax
    jz 3f
    xorl %edx, %edx
    xrstor64 (%rsp)
    jmp 4f
3:
    fxrstor64 (%rsp)
4:
    movq %rbx, %rsp
    .cfi_def_cfa_register %rsp
    popq %r15
    .cfi_adjust_cfa_offset -8
    popq %r14
    .cfi_adjust_cfa_offset -8
    popq %r13
    .cfi_adjust_cfa_offset -8
    popq %r12
    .cfi_adjust_cfa_offset -8
    popq %r11
    .cfi_adjust_cfa_offset -8
    popq %r10
    .cfi_adjust_cfa_offset -8
    popq %r9
    .cfi_adjust_cfa_offset -8
    popq %r8
    .cfi_adjust_cfa_offset -8
    popq %rdi
    .cfi_adjust_cfa_offset -8
    popq %rsi
    .cfi_adjust_cfa_offset -8
    popq %rbp
    .cfi_adjust_cfa_offset -8
    popq %rbx
    .cfi_adjust_cfa_offset -8
    popq %rdx
    .cfi_adjust_cfa_offset -8
    popq %rcx
    .cfi_adjust_cfa_offset -8
    popq %rax
    .cfi_adjust_cfa_offset -8
    popfq
    .cfi_adjust_cfa_offset -8
    ret $128
    .cfi_endproc
    .size gmprt_async_preempt_tramp, .-gmprt_async_preempt_tramp

    .section .note.GNU-stack,"",@progbits
