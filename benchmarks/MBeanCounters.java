// One reading of numeric MBean attributes of a running JVM of the same user, through the JDK's
// attach API: no JMX port is opened (the local connector's address is only handed to a process
// that may attach, i.e. the same user), so nothing changes in how the stack starts.
//
//     java benchmarks/MBeanCounters.java <pid> <attribute> <object name or pattern>...
//
// Prints one JSON object {"<object name>": value, ...} (names a pattern matched, each once; a
// name without the attribute is left out). benchmarks/broker.py runs it on the Kafka broker.
import com.sun.tools.attach.VirtualMachine;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class MBeanCounters {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: MBeanCounters <pid> <attribute> <object name>...");
            System.exit(2);
        }
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String address;
        try {
            address = vm.startLocalManagementAgent();  // started once, then the same address
        } finally {
            vm.detach();
        }
        Map<String, Object> values = new TreeMap<>();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            for (int i = 2; i < args.length; i++) {
                for (ObjectName name : server.queryNames(new ObjectName(args[i]), null)) {
                    try {
                        Object value = server.getAttribute(name, args[1]);
                        if (value instanceof Number) values.put(name.getCanonicalName(), value);
                    } catch (javax.management.AttributeNotFoundException e) {
                        // not a counter of this kind
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (out.length() > 1) out.append(", ");
            String key = e.getKey().replace("\\", "\\\\").replace("\"", "\\\"");
            out.append('"').append(key).append("\": ").append(e.getValue());
        }
        System.out.println(out.append('}'));
    }
}
