package vm

import "fmt"

// trace logs one instruction about to run, with its operands and registers (vm_debug builds only).
func (m *Machine) trace(pc int, in Instr) {
	m.log.Debug("vm", "entity", m.ent.Name, "handler", m.h.EventType, "pc", pc, "op", in.Op.String(),
		"operands", m.p.operands(m.h, in), "regs", fmt.Sprint(m.regs))
}
