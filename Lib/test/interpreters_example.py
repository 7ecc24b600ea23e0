import interpreters
import threading

# Each worker takes numbers from the tasks queue until it gets None, and
# answers each one with a (number, digits of its factorial) pair.
WORKER = """
import math

while (n := tasks.get()) is not None:
    results.put((n, len(str(math.factorial(n)))))
"""

tasks = interpreters.create_queue()
results = interpreters.create_queue()

pool = [interpreters.create() for _ in range(4)]
threads = []
for interp in pool:
    interp.prepare_main(tasks=tasks, results=results)
    # run() blocks its thread until the worker stops.
    thread = threading.Thread(target=interp.run, args=(WORKER,))
    thread.start()
    threads.append(thread)

numbers = range(1, 501)
for n in numbers:
    tasks.put(n)
for _ in pool:
    tasks.put(None)

digits = dict(results.get() for _ in numbers)
for thread in threads:
    thread.join()
for interp in pool:
    interp.destroy()

for n in (10, 100, 500):
    print(f'{n}! has {digits[n]} digits')
