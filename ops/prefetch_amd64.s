#include "textflag.h"

// func prefetchLines(addr, end uintptr)
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ addr+0(FP), AX
	MOVQ end+8(FP), BX
	ANDQ $-64, AX
loop:
	CMPQ AX, BX
	JAE done
	PREFETCHT0 (AX)
	ADDQ $64, AX
	JMP loop
done:
	RET
