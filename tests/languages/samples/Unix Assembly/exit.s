    .globl main
main:
    movq $60, %rax
    xorq %rdi, %rdi
    syscall
