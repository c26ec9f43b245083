package offload

import "github.com/cilium/ebpf"

// loadHook loads the maps, the variables and the program of hook from
// spec into objs, and not the other hook's program: the kernel never
// verifies a program the Loader does not attach, so that its refusal (a
// helper or a check the kernel or the process's privileges do not allow)
// cannot stand in the way of the hook asked for.
func loadHook(spec *ebpf.CollectionSpec, hook Hook, objs *offloadObjects) error {
	if hook == HookXDP {
		var o struct {
			offloadMaps
			offloadVariables
			ChannelDataXdp *ebpf.Program `ebpf:"channel_data_xdp"`
		}
		if err := spec.LoadAndAssign(&o, nil); err != nil {
			return err
		}
		objs.offloadMaps, objs.offloadVariables, objs.ChannelDataXdp = o.offloadMaps, o.offloadVariables, o.ChannelDataXdp
		return nil
	}
	var o struct {
		offloadMaps
		offloadVariables
		ChannelData *ebpf.Program `ebpf:"channel_data"`
	}
	if err := spec.LoadAndAssign(&o, nil); err != nil {
		return err
	}
	objs.offloadMaps, objs.offloadVariables, objs.ChannelData = o.offloadMaps, o.offloadVariables, o.ChannelData
	return nil
}
